import { natsServerEnv } from './nats';

describe('natsServerEnv', () => {
  it('gives nats-server one Go processor on a machine of two CPUs or fewer', () => {
    expect(natsServerEnv({ PATH: '/usr/bin' }, 2)).toEqual({ PATH: '/usr/bin', GOMAXPROCS: '1' });
    expect(natsServerEnv({}, 1).GOMAXPROCS).toBe('1');
  });

  it('leaves a larger machine, and a GOMAXPROCS someone set, as they are', () => {
    expect(natsServerEnv({ PATH: '/usr/bin' }, 4)).toEqual({ PATH: '/usr/bin' });
    expect(natsServerEnv({ GOMAXPROCS: '2' }, 2)).toEqual({ GOMAXPROCS: '2' });
  });
});
