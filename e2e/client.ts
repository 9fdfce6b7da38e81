import request from 'supertest';
import { newId } from '@devpie/client-events';
import type { RunningSystem } from './system';

/** What the e2e tests of every app share as an HTTP client of the running system. */
export const WAIT = { Prefer: 'wait=10' };
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export interface SignedUp {
  email: string;
  token: string;
  user: { id: string; email: string };
}

/** A fresh user through Identity's real sign-up (which waits); fails the test unless it answers 201. */
export async function signUp(sys: RunningSystem, password: string, overrides: Record<string, unknown> = {}) {
  const email = `u${newId().slice(-8)}@example.com`;
  const res = await request(sys.identity)
    .post('/api/v1/auth/signup')
    .send({ email, password, firstName: 'Ada', lastName: 'Lovelace', ...overrides });
  expect(res.status).toBe(201);
  return { email, token: res.body.token as string, user: res.body.user as SignedUp['user'] };
}

/** Messages in the COMMANDS stream: a request that must write nothing leaves it unchanged. */
export async function commandCount(sys: RunningSystem): Promise<number> {
  const info = await sys.env.messaging.jsm.streams.info(sys.env.names.stream('COMMANDS'));
  return info.state.messages;
}
