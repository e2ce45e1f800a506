import { InvalidNameError, InvalidSpecError } from './errors';
import { planContainers, singleContainer, type ActorProcess } from './worker-sandbox';

const process = (args: string[]): ActorProcess => ({ args, rootfs: '/rootfs', readonlyRootfs: false });
const LOG = '/work/actor.log';

describe('the containers of a sandbox', () => {
  it('runs a single process as the root container "actor", without roles', () => {
    const counter = process(['/bin/node', '/app/counter.js']);
    expect(planContainers(singleContainer(counter), LOG)).toEqual([
      { id: 'actor', process: counter, output: LOG },
    ]);
  });

  it('starts the pause container first as the sandbox, then each container by name, joining it', () => {
    const pause = process(['/pause']);
    const [a, b] = [process(['/a']), process(['/b'])];
    const planned = planContainers(
      {
        pause,
        containers: [
          { name: 'web', process: a },
          { name: 'worker', process: b },
        ],
      },
      LOG,
    );
    expect(planned.map(({ id, role }) => [id, role])).toEqual([
      ['pause', { type: 'sandbox', name: 'pause' }],
      ['web', { type: 'container', name: 'web', sandboxId: 'pause' }],
      ['worker', { type: 'container', name: 'worker', sandboxId: 'pause' }],
    ]);
    expect(planned.map((container) => container.process)).toEqual([pause, a, b]);
  });

  it.each<
    [
      string,
      { pause?: boolean; containers: { name: string }[] },
      typeof InvalidSpecError | typeof InvalidNameError,
    ]
  >([
    ['no container', { containers: [] }, InvalidSpecError],
    [
      'several containers without a pause container',
      { containers: [{ name: 'a' }, { name: 'b' }] },
      InvalidSpecError,
    ],
    ['a pause container alone', { pause: true, containers: [] }, InvalidSpecError],
    ['a container named pause', { pause: true, containers: [{ name: 'pause' }] }, InvalidSpecError],
    [
      'two containers of one name',
      { pause: true, containers: [{ name: 'a' }, { name: 'a' }] },
      InvalidSpecError,
    ],
    ['a name runsc refuses', { pause: true, containers: [{ name: '../a' }] }, InvalidNameError],
  ])('refuses %s', (_what, shape, error) => {
    const workload = {
      ...(shape.pause === true && { pause: process(['/pause']) }),
      containers: shape.containers.map(({ name }) => ({ name, process: process(['/x']) })),
    };
    expect(() => planContainers(workload, LOG)).toThrow(error);
  });
});
