import { ateapi } from '@substrate/proto';
import { ActorStatus, statusName } from './status';

describe('ActorStatus and the wire enum ateapi.Actor.Status', () => {
  it('have the same names and numbers', () => {
    const wire = Object.entries(ateapi.Actor_Status).filter(
      ([name, value]) => typeof value === 'number' && name !== 'UNRECOGNIZED',
    );
    const ours = Object.entries(ActorStatus)
      .filter(([, value]) => typeof value === 'number')
      .map(([, value]) => [statusName(value as ActorStatus), value]);
    expect(ours.sort()).toEqual(wire.sort());
  });
});
