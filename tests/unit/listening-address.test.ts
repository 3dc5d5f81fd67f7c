import { listeningAddress } from '../../src/service';

describe('the listening line', () => {
  it.each([
    ['0.0.0.0', { listen: '0.0.0.0:8080', url: 'http://127.0.0.1:8080' }],
    ['::', { listen: '[::]:8080', url: 'http://127.0.0.1:8080' }],
    ['127.0.0.1', { listen: '127.0.0.1:8080', url: 'http://127.0.0.1:8080' }],
    ['10.1.2.3', { listen: '10.1.2.3:8080', url: 'http://10.1.2.3:8080' }],
    ['::1', { listen: '[::1]:8080', url: 'http://[::1]:8080' }],
  ])('when HOST is %s, then it says the socket and where this machine reaches it', (host, expected) => {
    expect(listeningAddress(host, 8080)).toEqual(expected);
  });
});
