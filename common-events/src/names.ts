import { ConfigError } from './errors';

/** Every category (entity stream family) in the system. */
export const CATEGORIES = ['users', 'emails', 'teams', 'projects', 'estimates'] as const;
export type Category = (typeof CATEGORIES)[number];

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
const NAMESPACE = /^[a-z][a-z0-9_]{0,30}$/;

export const isEntityId = (id: string): boolean => TOKEN.test(id);

function token(kind: string, value: string): string {
  if (!TOKEN.test(value)) throw new ConfigError(`${kind} "${value}" is not a valid subject token`);
  return value;
}

/**
 * All stream, subject, durable and Postgres schema names, derived from one namespace so that
 * parallel test files (and parallel deployments on one server) never see each other.
 * The empty namespace gives the production names: `projects.<id>`, `projects.command.<id>`, `EVENTS`.
 */
export class Names {
  readonly root: string;

  constructor(readonly namespace: string = '') {
    if (namespace !== '' && !NAMESPACE.test(namespace)) {
      throw new ConfigError(`namespace "${namespace}" must match ${NAMESPACE}`);
    }
    this.root = namespace ? `${namespace}.` : '';
  }

  /** Entity stream `projects.<projectId>`: the events of one entity. */
  entity(category: Category, id: string): string {
    return `${this.root}${category}.${token('entity id', id)}`;
  }
  /** Command stream `projects.command.<projectId>`. */
  command(category: Category, id: string): string {
    return `${this.root}${category}.command.${token('entity id', id)}`;
  }
  /** Filter for every entity stream of a category. */
  categoryEvents(category: Category): string {
    return `${this.root}${category}.*`;
  }
  /** Filter for every command stream of a category. */
  categoryCommands(category: Category): string {
    return `${this.root}${category}.command.*`;
  }
  /** Filter for every event of every category (one filter subject, as nats-server 2.9 requires). */
  allEvents(): string {
    return `${this.root}*.*`;
  }
  /** Category and entity id of an entity or command subject. */
  parse(subject: string): { category: Category; id: string } {
    const rest = subject.slice(this.root.length).split('.');
    const category = rest[0] as Category;
    const id = rest[rest.length - 1]!;
    if (!subject.startsWith(this.root) || !CATEGORIES.includes(category)) {
      throw new ConfigError(`subject "${subject}" is not in namespace "${this.namespace}"`);
    }
    return { category, id };
  }

  snapshot(category: Category, id: string): string {
    return `${this.root}_snapshot.${category}.${token('entity id', id)}`;
  }
  snapshotFilter(): string {
    return `${this.root}_snapshot.>`;
  }
  parked(consumer: string): string {
    return `${this.root}_parked.${token('consumer', consumer)}`;
  }
  parkedFilter(): string {
    return `${this.root}_parked.>`;
  }
  /** Core-NATS subject an aggregator announces its commits on. */
  notice(aggregator: string): string {
    return `${this.root}_notice.${token('aggregator', aggregator)}`;
  }

  stream(base: 'EVENTS' | 'COMMANDS' | 'SNAPSHOTS' | 'PARKED'): string {
    return this.namespace ? `${this.namespace.toUpperCase()}_${base}` : base;
  }
  durable(name: string): string {
    return token('durable', this.namespace ? `${this.namespace}_${name}` : name);
  }
  /** Postgres schema owned by one context (`identity`, `projects`, ...). */
  schema(name: string): string {
    const schema = this.namespace ? `${this.namespace}_${name}` : name;
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new ConfigError(`schema name "${schema}" is not valid`);
    return schema;
  }
}
