import { actorOfRequest, AddressError, parseActorHost, parseTargetHeader } from './actor-address';

describe('actor addressing', () => {
  it.each([
    'counter-1.default.actors.resources.substrate.ate.dev',
    'counter-1.default.actors.resources.substrate.ate.dev:8080',
    'counter-1.default.actors.resources.substrate.ate.dev.',
    'counter-1.default.actors.resources.substrate.ate.dev.:80',
  ])('accepts %s', (host) => {
    expect(parseActorHost(host)).toEqual({ actorId: 'counter-1', atespace: 'default' });
  });

  it.each([
    ['counter.actors.resources.substrate.ate.dev', 'expected <actor>.<atespace> before the actor domain'],
    ['Counter.default.actors.resources.substrate.ate.dev', 'actor "Counter" is not a DNS-1123 label'],
    ['a.b.c.actors.resources.substrate.ate.dev', 'atespace "b.c" is not a DNS-1123 label'],
    ['example.com', 'not a name under actors.resources.substrate.ate.dev'],
    ['a.b.actors.resources.substrate.ate.dev:http', 'bad port "http"'],
    [`${'x'.repeat(64)}.b.actors.resources.substrate.ate.dev`, 'is longer than 63 characters'],
    ['-a.b.actors.resources.substrate.ate.dev', 'actor "-a" is not a DNS-1123 label'],
  ])('refuses %s', (host, reason) => {
    expect(() => parseActorHost(host)).toThrow(AddressError);
    expect(() => parseActorHost(host)).toThrow(reason);
    expect(() => parseActorHost(host)).toThrow(`invalid host ${JSON.stringify(host)}: `);
  });

  it('reads the ate-target-actor header before the Host', () => {
    expect(actorOfRequest({ host: 'localhost:8080', 'ate-target-actor': 'team-a/agent-7' })).toEqual({
      atespace: 'team-a',
      actorId: 'agent-7',
    });
    expect(actorOfRequest({ host: 'agent-7.team-a.actors.resources.substrate.ate.dev' })).toEqual({
      atespace: 'team-a',
      actorId: 'agent-7',
    });
    expect(() => parseTargetHeader('agent-7')).toThrow(
      'invalid ate-target-actor "agent-7": expected <atespace>/<actor>',
    );
    expect(() => parseTargetHeader('a/B')).toThrow('actor "B" is not a DNS-1123 label');
    expect(() => actorOfRequest({})).toThrow('no Host header');
  });
});
