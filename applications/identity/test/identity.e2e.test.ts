import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { newId } from '@devpie/client-events';
import { eventually } from '@devpie/client-events/testing';
import { keyId } from '@devpie/http-kit';
import { startSystem, type RunningSystem } from '../../../e2e/system';
import { bearer, commandCount, signUp as signUpAs, WAIT } from '../../../e2e/client';

let sys: RunningSystem;
beforeAll(async () => {
  sys = await startSystem();
}, 30_000);
afterAll(() => sys.stop());

const api = () => request(sys.identity);
const password = 'Correct-Horse-42';

const signUp = (overrides: Record<string, unknown> = {}) => signUpAs(sys, password, overrides);

describe('sign-up, sign-in and profile', () => {
  test('sign-up answers 201 with a token and the user; sign-in and /users/me follow', async () => {
    const email = `Mixed.${newId().slice(-8)}@Example.COM`;
    const res = await api()
      .post('/api/v1/auth/signup')
      .send({ email: `  ${email} `, password, firstName: 'Grace', lastName: 'Hopper', locale: 'en-US' });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe('/api/v1/users/me');
    expect(res.body.user).toMatchObject({ email: email.toLowerCase(), firstName: 'Grace', locale: 'en-US' });
    expect(JSON.stringify(res.body)).not.toContain('scrypt');

    const signin = await api().post('/api/v1/auth/signin').send({ email: email.toUpperCase(), password });
    expect(signin.status).toBe(200);
    expect(signin.body.user.id).toBe(res.body.user.id);
    const me = await api().get('/api/v1/users/me').set(bearer(signin.body.token));
    expect(me.status).toBe(200);
    expect(me.body).toEqual(res.body.user);
  });

  test('the password never reaches an event or a command in clear', async () => {
    const { email } = await signUp();
    const events = await sys.env.messaging.jsm.streams.info(sys.env.names.stream('EVENTS'));
    const commands = await sys.env.messaging.jsm.streams.info(sys.env.names.stream('COMMANDS'));
    for (const [stream, last] of [
      ['EVENTS', events.state.last_seq],
      ['COMMANDS', commands.state.last_seq],
    ] as const) {
      for (let seq = 1; seq <= last; seq++) {
        const m = await sys.env.messaging.jsm.streams.getMessage(sys.env.names.stream(stream), { seq });
        expect(Buffer.from(m!.data).toString()).not.toContain(password);
      }
    }
    expect(email).toBeTruthy();
  });

  test('a wrong password and an unknown address get the same 401', async () => {
    const { email } = await signUp();
    const wrong = await api().post('/api/v1/auth/signin').send({ email, password: 'Not-the-password-1' });
    const unknown = await api()
      .post('/api/v1/auth/signin')
      .send({ email: `nobody${newId()}@example.com`, password });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.detail).toBe(unknown.body.detail);
    expect(wrong.headers['content-type']).toContain('application/problem+json');
  });

  test('an address already registered (any case, any spaces) is 409 EmailTaken', async () => {
    const { email } = await signUp();
    const before = await commandCount(sys);
    const res = await api()
      .post('/api/v1/auth/signup')
      .send({ email: ` ${email.toUpperCase()}`, password, firstName: 'B', lastName: 'C' });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ reason: 'EmailTaken', status: 409 });
    expect(await commandCount(sys)).toBe(before + 1); // the refusal is a recorded rejection
  });

  test('two sign-ups racing for one address: exactly one wins', async () => {
    const email = `race${newId().slice(-8)}@example.com`;
    const attempts = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        api()
          .post('/api/v1/auth/signup')
          .send({ email, password, firstName: `Racer${i}`, lastName: 'X' }),
      ),
    );
    expect(attempts.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
  });

  test('PATCH /users/me changes the profile; without Prefer it answers 202 and the command status', async () => {
    const { token, user } = await signUp();
    const waited = await api()
      .patch('/api/v1/users/me')
      .set(bearer(token))
      .set(WAIT)
      .send({ firstName: 'Augusta' });
    expect(waited.status).toBe(200);
    expect(waited.headers['preference-applied']).toBe('wait=10');
    expect(waited.body).toMatchObject({ id: user.id, firstName: 'Augusta' });

    const queued = await api().patch('/api/v1/users/me').set(bearer(token)).send({ lastName: 'King' });
    expect(queued.status).toBe(202);
    expect(queued.headers.location).toBe(`/api/v1/commands/${queued.body.commandId}`);
    const status = await eventually(async () => {
      const r = await api().get(queued.headers.location!).set(bearer(token));
      return r.body.status === 'accepted' ? r.body : undefined;
    });
    expect(status).toMatchObject({ type: 'ModifyUser', status: 'accepted' });
    const other = await signUp();
    expect((await api().get(queued.headers.location!).set(bearer(other.token))).status).toBe(404);
  });
});

describe('teams and memberships', () => {
  test('the creator administers a team; members are added, changed and removed by administrators', async () => {
    const admin = await signUp();
    const editor = await signUp();
    const created = await api()
      .post('/api/v1/teams')
      .set(bearer(admin.token))
      .set(WAIT)
      .send({ name: 'Studio' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Studio', role: 'administrator', memberCount: 1 });
    const teamId = created.body.id as string;

    const add = await api()
      .post(`/api/v1/teams/${teamId}/memberships`)
      .set(bearer(admin.token))
      .set(WAIT)
      .send({ email: editor.email.toUpperCase(), role: 'editor' });
    expect(add.status).toBe(201);
    expect(add.body).toMatchObject({ userId: editor.user.id, role: 'editor', email: editor.email });

    const teams = await api().get('/api/v1/teams').set(bearer(editor.token));
    expect(teams.body.items).toEqual([
      expect.objectContaining({ id: teamId, role: 'editor', memberCount: 2 }),
    ]);
    const members = await api().get(`/api/v1/teams/${teamId}/memberships`).set(bearer(editor.token));
    expect(members.body.items.map((m: { role: string }) => m.role).sort()).toEqual([
      'administrator',
      'editor',
    ]);

    // an editor may read but not manage
    const denied = await api()
      .patch(`/api/v1/teams/${teamId}/memberships/${add.body.id}`)
      .set(bearer(editor.token))
      .send({ role: 'viewer' });
    expect(denied.status).toBe(403);

    const again = await api()
      .post(`/api/v1/teams/${teamId}/memberships`)
      .set(bearer(admin.token))
      .set(WAIT)
      .send({ email: editor.email, role: 'viewer' });
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe('AlreadyMember');

    const changed = await api()
      .patch(`/api/v1/teams/${teamId}/memberships/${add.body.id}`)
      .set(bearer(admin.token))
      .set(WAIT)
      .send({ role: 'viewer' });
    expect(changed.status).toBe(200);
    expect(changed.body.role).toBe('viewer');

    const removed = await api()
      .delete(`/api/v1/teams/${teamId}/memberships/${add.body.id}`)
      .set(bearer(admin.token))
      .set(WAIT);
    expect(removed.status).toBe(204);
    expect((await api().get('/api/v1/teams').set(bearer(editor.token))).body.items).toEqual([]);
    expect((await api().get(`/api/v1/teams/${teamId}/memberships`).set(bearer(editor.token))).status).toBe(
      404,
    );
  });

  test('a team keeps an administrator: demoting or removing the last one is 422 LastAdministrator', async () => {
    const admin = await signUp();
    const team = await api().post('/api/v1/teams').set(bearer(admin.token)).set(WAIT).send({ name: 'Solo' });
    const mine = team.body.membershipId as string;
    const demote = await api()
      .patch(`/api/v1/teams/${team.body.id}/memberships/${mine}`)
      .set(bearer(admin.token))
      .set(WAIT)
      .send({ role: 'editor' });
    expect(demote.status).toBe(422);
    expect(demote.body).toMatchObject({
      reason: 'LastAdministrator',
      type: 'urn:devpie:problem:LastAdministrator',
    });
    const leave = await api()
      .delete(`/api/v1/teams/${team.body.id}/memberships/${mine}`)
      .set(bearer(admin.token))
      .set(WAIT);
    expect(leave.status).toBe(422);
    const status = await api().get(demote.headers.location!).set(bearer(admin.token));
    expect(status.body).toMatchObject({ status: 'rejected', reason: 'LastAdministrator' });
  });

  test('unknown ids, unknown users, bad roles and other people’s teams are 4xx and write nothing', async () => {
    const admin = await signUp();
    const stranger = await signUp();
    const team = await api()
      .post('/api/v1/teams')
      .set(bearer(admin.token))
      .set(WAIT)
      .send({ name: 'Private' });
    const teamId = team.body.id as string;
    const before = await commandCount(sys);
    const cases: [request.Test, number, string?][] = [
      [api().get(`/api/v1/teams/${newId()}/memberships`).set(bearer(admin.token)), 404],
      [api().get(`/api/v1/teams/not-a-uuid/memberships`).set(bearer(admin.token)), 404],
      [api().get(`/api/v1/teams/${teamId}/memberships`).set(bearer(stranger.token)), 404],
      [
        api()
          .post(`/api/v1/teams/${teamId}/memberships`)
          .set(bearer(stranger.token))
          .send({ email: stranger.email, role: 'editor' }),
        404,
      ],
      [
        api()
          .post(`/api/v1/teams/${teamId}/memberships`)
          .set(bearer(admin.token))
          .send({ email: stranger.email, role: 'owner' }),
        400,
        'body.role',
      ],
      [
        api()
          .post(`/api/v1/teams/${teamId}/memberships`)
          .set(bearer(admin.token))
          .send({ email: 'ghost@example.com', role: 'viewer' }),
        422,
        'body.email',
      ],
      [
        api()
          .patch(`/api/v1/teams/${teamId}/memberships/${newId()}`)
          .set(bearer(admin.token))
          .send({ role: 'viewer' }),
        404,
      ],
      [api().delete(`/api/v1/teams/${teamId}/memberships/${newId()}`).set(bearer(admin.token)), 404],
      [
        api()
          .post('/api/v1/teams')
          .set(bearer(admin.token))
          .send({ name: 'x'.repeat(101) }),
        400,
        'body.name',
      ],
      [api().post('/api/v1/teams').set(bearer(admin.token)).send({ name: 'ok', owner: 'me' }), 400, 'body'],
    ];
    for (const [req, status, field] of cases) {
      const res = await req;
      expect({ status: res.status, type: res.headers['content-type'] }).toEqual({
        status,
        type: expect.stringContaining('application/problem+json'),
      });
      if (field) expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    }
    expect(await commandCount(sys)).toBe(before);
  });

  test('Idempotency-Key: a retried request makes one command; a different body with the key is refused', async () => {
    const { token } = await signUp();
    const key = `create-team-${newId()}`;
    const first = await api()
      .post('/api/v1/teams')
      .set(bearer(token))
      .set('Idempotency-Key', key)
      .send({ name: 'Once' });
    const second = await api()
      .post('/api/v1/teams')
      .set(bearer(token))
      .set('Idempotency-Key', key)
      .set(WAIT)
      .send({ name: 'Once' });
    expect(first.status).toBe(202);
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);
    const teams = await api().get('/api/v1/teams').set(bearer(token));
    expect(teams.body.items.filter((t: { name: string }) => t.name === 'Once')).toHaveLength(1);
    const reused = await api()
      .post('/api/v1/teams')
      .set(bearer(token))
      .set('Idempotency-Key', key)
      .send({ name: 'Twice' });
    expect(reused.status).toBe(422);
    expect(reused.body.reason).toBe('IdempotencyKeyReused');
  });
});

describe('bad input', () => {
  const signup = (body: unknown) =>
    api()
      .post('/api/v1/auth/signup')
      .set('Content-Type', 'application/json')
      .send(body as object);

  test.each([
    ['malformed JSON', '{"email": ', 'body'],
    ['a missing field', { email: 'a@example.com', password, firstName: 'A' }, 'body.lastName'],
    [
      'an extra field',
      { email: 'a@example.com', password, firstName: 'A', lastName: 'B', admin: true },
      'body',
    ],
    ['a wrong type', { email: 'a@example.com', password, firstName: 7, lastName: 'B' }, 'body.firstName'],
    [
      'an over-long name',
      { email: 'a@example.com', password, firstName: 'A'.repeat(101), lastName: 'B' },
      'body.firstName',
    ],
    ['an invalid email', { email: 'not-an-email', password, firstName: 'A', lastName: 'B' }, 'body.email'],
    // Postgres stores no NUL: accepted, it would stop the identity aggregator on this event for good
    [
      'a name with a NUL',
      { email: 'a@example.com', password, firstName: 'A', lastName: 'B\u0000' },
      'body.lastName',
    ],
    [
      'an email with a NUL',
      { email: 'a\u0000@example.com', password, firstName: 'A', lastName: 'B' },
      'body.email',
    ],
    [
      'a bad locale',
      { email: 'a@example.com', password, firstName: 'A', lastName: 'B', locale: 'english' },
      'body.locale',
    ],
  ])('%s → 400 naming the field, nothing written', async (_what, body, field) => {
    const before = await commandCount(sys);
    const res = await signup(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    expect(await commandCount(sys)).toBe(before);
  });

  test.each([
    ['short', 'Ab1!', 'at least 10 characters'],
    ['one class', 'abcdefghijkl', 'mix at least two'],
    ['repetitive', 'aaaaaaaaaa1', 'at least 5 different characters'],
    ['personal', 'Lovelace-2024!', 'your name or email'],
  ])('a weak password (%s) says why', async (_what, weak, why) => {
    const res = await signup({
      email: `w${newId().slice(-6)}@example.com`,
      password: weak,
      firstName: 'Ada',
      lastName: 'Lovelace',
    });
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('WeakPassword');
    expect(res.body.detail).toContain(why);
  });

  test('a body over the size limit is 413', async () => {
    const res = await signup({
      email: 'a@example.com',
      password,
      firstName: 'A',
      lastName: 'x'.repeat(40_000),
    });
    expect(res.status).toBe(413);
  });
});

describe('tokens', () => {
  const sign = (
    claims: object,
    opts: jwt.SignOptions,
    key: jwt.Secret | import('node:crypto').KeyObject = sys.keys.privateKey,
  ) =>
    jwt.sign(claims, key, {
      algorithm: 'RS256',
      keyid: keyId(sys.keys.publicKey),
      issuer: sys.identityConfig.JWT_ISSUER,
      audience: sys.identityConfig.JWT_AUDIENCE,
      expiresIn: 60,
      ...opts,
    });

  test('a good token is accepted (control)', async () => {
    const { user } = await signUp();
    expect(
      (
        await api()
          .get('/api/v1/users/me')
          .set(bearer(sign({}, { subject: user.id })))
      ).status,
    ).toBe(200);
  });

  test.each([
    ['missing', () => ({})],
    ['not a bearer', () => ({ Authorization: 'Basic Zm9vOmJhcg==' })],
    ['expired', () => bearer(sign({}, { subject: 'u', expiresIn: -60 }))],
    [
      'signed with another key',
      () =>
        bearer(sign({}, { subject: 'u' }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)),
    ],
    [
      'alg none',
      () => {
        const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const p = Buffer.from(
          JSON.stringify({
            sub: 'u',
            iss: sys.identityConfig.JWT_ISSUER,
            aud: sys.identityConfig.JWT_AUDIENCE,
            exp: 9e9,
          }),
        ).toString('base64url');
        return bearer(`${h}.${p}.`);
      },
    ],
    [
      'HS256 with the public key as secret',
      () =>
        bearer(
          jwt.sign({ sub: 'u' }, sys.keys.publicKey.export({ type: 'spki', format: 'pem' }) as string, {
            algorithm: 'HS256',
            keyid: keyId(sys.keys.publicKey),
            issuer: sys.identityConfig.JWT_ISSUER,
            audience: sys.identityConfig.JWT_AUDIENCE,
          }),
        ),
    ],
    ['another issuer', () => bearer(sign({}, { subject: 'u', issuer: 'https://evil.example/' }))],
    ['another audience', () => bearer(sign({}, { subject: 'u', audience: 'someone-else' }))],
  ])('%s → 401', async (_what, headers) => {
    const res = await api().get('/api/v1/users/me').set(headers());
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  test('the JWKS publishes the verification key', async () => {
    const res = await api().get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.body.keys).toEqual([
      expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: keyId(sys.keys.publicKey) }),
    ]);
  });
});

describe('sign-in flood', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = sys.identity.listen(0);
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  test('ten thousand attempts from one client do not lock out another client or address', async () => {
    const victim = await signUp();
    const attacker = { 'X-Forwarded-For': '203.0.113.9', 'Content-Type': 'application/json' };
    const statuses = new Map<number, number>();
    let sent = 0;
    const worker = async () => {
      while (sent < 10_000) {
        sent++;
        const r = await fetch(`${base}/api/v1/auth/signin`, {
          method: 'POST',
          headers: attacker,
          body: JSON.stringify({ email: `guess${sent % 50}@example.com`, password: `Guess-${sent}-x` }),
        });
        await r.arrayBuffer();
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    expect(statuses.get(429)).toBeGreaterThan(9_900);
    expect((statuses.get(401) ?? 0) + (statuses.get(429) ?? 0)).toBe(10_000);
    const legit = await fetch(`${base}/api/v1/auth/signin`, {
      method: 'POST',
      headers: { 'X-Forwarded-For': '198.51.100.7', 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: victim.email, password }),
    });
    expect(legit.status).toBe(200);
  }, 60_000);

  test('guessing one address from many clients is limited per address', async () => {
    const target = await signUp();
    const results: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${base}/api/v1/auth/signin`, {
        method: 'POST',
        headers: { 'X-Forwarded-For': `192.0.2.${i + 1}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: target.email, password: `Wrong-guess-${i}` }),
      });
      results.push(r.status);
    }
    expect(results.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(results.slice(5)).toEqual([429, 429, 429]);
  });
});

describe('around the API', () => {
  test('CORS answers only the configured origins', async () => {
    const allowed = await api()
      .options('/api/v1/users/me')
      .set('Origin', 'http://localhost:3000')
      .set('Access-Control-Request-Method', 'PATCH')
      .set('Access-Control-Request-Headers', 'authorization,content-type,prefer,idempotency-key');
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(allowed.headers['access-control-allow-headers']).toContain('Idempotency-Key');
    const other = await api()
      .options('/api/v1/users/me')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'PATCH');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('security headers are set and the framework is not announced', async () => {
    const res = await api().get('/healthz');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  test('the request id follows the request into the command and its event', async () => {
    const { token } = await signUp();
    const requestId = `req-${newId()}`;
    const res = await api()
      .patch('/api/v1/users/me')
      .set(bearer(token))
      .set('X-Request-Id', requestId)
      .set(WAIT)
      .send({ locale: 'fr' });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe(requestId);
    const find = async (stream: 'COMMANDS' | 'EVENTS') => {
      const info = await sys.env.messaging.jsm.streams.info(sys.env.names.stream(stream));
      for (let seq = info.state.last_seq; seq > 0; seq--) {
        const m = await sys.env.messaging.jsm.streams.getMessage(sys.env.names.stream(stream), { seq });
        const body = JSON.parse(Buffer.from(m!.data).toString());
        if (body.metadata.traceId === requestId) return body;
      }
      return undefined;
    };
    expect(await find('COMMANDS')).toMatchObject({ type: 'ModifyUser' });
    expect(await find('EVENTS')).toMatchObject({ type: 'UserModified' });
  });

  test('the OpenAPI 3.1 document is generated from the schemas the routes validate with', async () => {
    const res = await api().get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const signup = res.body.paths['/api/v1/auth/signup'].post;
    expect(signup.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      required: ['email', 'password', 'firstName', 'lastName'],
      additionalProperties: false,
    });
    expect(res.body.paths['/api/v1/teams/{teamId}/memberships/{membershipId}'].patch.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'membershipId', in: 'path' })]),
    );
  });

  test('unknown routes are problem+json 404', async () => {
    const { token } = await signUp();
    const res = await api().get('/api/v1/nothing-here').set(bearer(token));
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });
});
