import { ipKeyGenerator } from 'express-rate-limit';

/** One IPv6 client holds a /64 (a host picks any address in it): its budgets are the prefix's. */
export const CLIENT_IPV6_PREFIX = 64;

/**
 * Who a client is, for every per-client budget (failed authentications, webhooks a minute, connections
 * held): an IPv4 address as it is (an IPv4-mapped IPv6 one as its IPv4), an IPv6 address as its /64, so a
 * client cannot reset a budget by moving to the next address of its own network.
 */
export function clientKeyOf(address: string): string {
  try {
    return ipKeyGenerator(address, CLIENT_IPV6_PREFIX);
  } catch {
    // Not an address (a unix socket's peer, 'unknown'): itself.
    return address;
  }
}
