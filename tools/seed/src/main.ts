/**
 * `npm run seed`: demo data through the HTTP API, as the React client would create it — a demo
 * user and a teammate, a team, two projects with tasks (some moved along the board), an hourly rate
 * and three-point estimates. Every write waits for its outcome (`Prefer: wait`).
 *
 * Safe to run again: sign-up answers 409 for a known address and the seed signs in instead; the
 * team, the memberships and the projects are looked up by name before they are created, and
 * estimates are PUTs.
 *
 * Where the apps are: IDENTITY_URL, PROJECTS_URL, ESTIMATION_URL, or http://localhost:4000/4020/4040
 * moved by PORT_OFFSET (as `npm start` places them).
 */
import { seed } from './seed';

seed({
  env: process.env,
  log: (line) => console.log(line),
}).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`seed failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
