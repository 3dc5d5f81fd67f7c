import request from 'supertest';
import { ADMIN_TOKEN, type Harness } from './harness';

export type Agent = ReturnType<typeof request.agent>;

/** A browser-like agent signed in to the status page as `name` (its cookie kept). */
export async function signIn(h: Harness, name = 'Ana Ops'): Promise<Agent> {
  const agent = request.agent(h.app);
  const res = await agent.post('/ui/login').type('form').send({ name, token: ADMIN_TOKEN, next: '/ui/' });
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/ui/');
  return agent;
}

/** The CSRF token a page's forms carry. */
export const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
