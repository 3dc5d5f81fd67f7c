/**
 * A payload the domain cannot take, with the field and what was expected in its message. The domain
 * knows nothing of HTTP: the error middleware maps this to the catalogue's INVALID_PAYLOAD (422).
 */
export class InvalidPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}
