import {
  buildComponent,
  ConcurrencyError,
  EntityStore,
  isRejection,
  type ComponentHooks,
  type Logger,
  type Messaging,
  type UserCommand,
} from '@devpie/client-events';
import { emailEntity, emailEntityId, reserveEmail, type EmailState } from './email';
import { teamDecider } from './team-decide';
import { userDecider } from './user-decide';

export interface IdentityComponentDeps {
  messaging: Messaging;
  logger: Logger;
  hooks?: ComponentHooks;
}

/**
 * The identity command processor: users (with the email reservation that makes addresses unique)
 * and teams with their memberships.
 */
export function buildIdentityComponent({ messaging, logger, hooks }: IdentityComponentDeps) {
  const emails = new EntityStore<EmailState>(messaging, emailEntity);

  /** Reserve the address on `emails.<sha256>` first: two sign-ups racing for it meet at its OCC check. */
  async function reserveFor(command: UserCommand) {
    if (command.type !== 'AddUser') return undefined;
    const id = emailEntityId(command.data.email);
    for (let attempt = 0; ; attempt++) {
      const entity = await emails.load(id);
      const decision = reserveEmail(entity.state, command.data.email, command.data.userId);
      if (decision === undefined || isRejection(decision)) return decision;
      try {
        await emails.append(entity, command, decision);
        return undefined;
      } catch (err) {
        if (!(err instanceof ConcurrencyError) || attempt >= 5) throw err;
      }
    }
  }

  const users = buildComponent({
    messaging,
    decider: userDecider,
    name: 'users-component',
    logger: logger.child({ component: 'users' }),
    prepare: reserveFor,
    hooks,
  });
  const teams = buildComponent({
    messaging,
    decider: teamDecider,
    name: 'teams-component',
    logger: logger.child({ component: 'teams' }),
    hooks,
  });

  return {
    handlers: { users: users.handle, teams: teams.handle },
    get bound() {
      return users.bound && teams.bound;
    },
    async start() {
      await Promise.all([users.start(), teams.start()]);
    },
    async stop() {
      await Promise.all([users.stop(), teams.stop()]);
    },
  };
}
