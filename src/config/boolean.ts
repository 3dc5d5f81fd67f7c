/**
 * How every yes/no setting is read, in the environment and in the routes file alike: these words, in any
 * case, with the spaces around them ignored. Anything else is refused with BOOLEAN_HINT.
 */
const WORDS: Record<string, boolean> = { true: true, false: false, 1: true, 0: false, yes: true, no: false, on: true, off: false };

export const BOOLEAN_HINT = 'expected true/false, 1/0, yes/no or on/off';

/** The setting's value, or undefined when `value` is none of the words (or a YAML boolean). */
export function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
  if (typeof value !== 'string') return undefined;
  return WORDS[value.trim().toLowerCase()];
}
