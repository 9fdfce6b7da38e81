import { takesFilterSubjects } from './durable';

test('several filter subjects per consumer from nats-server 2.10 on, one before', () => {
  for (const v of ['2.10.0', '2.10.27', '2.11.1', 'v2.12.0-beta.1', '3.0.0'])
    expect(takesFilterSubjects(v)).toBe(true);
  for (const v of ['2.9.10', '2.9.25', '2.2.0', '1.4.1']) expect(takesFilterSubjects(v)).toBe(false);
  // unknown: one filter, which every server takes
  for (const v of [undefined, '', 'dev', '2']) expect(takesFilterSubjects(v)).toBe(false);
});
