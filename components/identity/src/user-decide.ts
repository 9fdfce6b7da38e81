import {
  reject,
  unreachable,
  userCommands,
  userEvents,
  type Decider,
  type Decision,
  type UserCommand,
  type UserEvent,
} from '@devpie/client-events';
import { evolveUser, initialUserState, type UserState } from './user';

export function decideUser(command: UserCommand, state: UserState): Decision<UserEvent> {
  switch (command.type) {
    case 'AddUser':
      if (state.status !== 'initial')
        return reject('AlreadyExists', `user ${command.data.userId} already exists`);
      return { type: 'UserAdded', data: { ...command.data } };
    case 'ModifyUser':
      if (state.status !== 'active') return reject('NotFound', `user ${command.data.userId} does not exist`);
      if (command.metadata.userId !== command.data.userId) {
        return reject('Forbidden', 'only users themselves may modify their profile');
      }
      return {
        type: 'UserModified',
        data: { userId: command.data.userId, changes: { ...command.data.changes } },
      };
    default:
      return unreachable(command);
  }
}

export const userDecider: Decider<UserState, UserCommand, UserEvent> = {
  category: 'users',
  commands: userCommands,
  events: userEvents,
  stateVersion: 1,
  initialState: initialUserState,
  evolve: evolveUser,
  decide: decideUser,
};
