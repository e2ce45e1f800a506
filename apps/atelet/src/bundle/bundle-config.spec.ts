import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@substrate/testing';
import { type ContainerRequest } from '../herder/herder-request';
import { DEFAULT_PATH, containerProcess, resolveUser } from './bundle-config';

describe('container process from image config and template', () => {
  let tmp: { path: string; remove: () => void };
  beforeEach(() => {
    tmp = tempDir('atelet-bundle');
    mkdirSync(join(tmp.path, 'etc'));
    writeFileSync(
      join(tmp.path, 'etc', 'passwd'),
      'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n',
    );
    writeFileSync(join(tmp.path, 'etc', 'group'), 'root:x:0:\nstaff:x:50:\n');
  });
  afterEach(() => tmp.remove());

  const container = (over: Partial<ContainerRequest> = {}): ContainerRequest => ({
    name: 'app',
    image: 'oci:/i:t',
    command: [],
    env: [],
    durableDirMounts: [],
    ...over,
  });

  it('honours entrypoint, cmd, env, working dir and user of the image', async () => {
    const process = await containerProcess(
      container({ env: [{ name: 'B', value: 'template' }] }),
      {
        Entrypoint: ['/bin/app'],
        Cmd: ['--serve'],
        Env: ['B=image', 'C=1'],
        WorkingDir: '/srv',
        User: 'app',
      },
      tmp.path,
      'spec.containers[0]',
    );
    expect(process).toEqual({
      args: ['/bin/app', '--serve'],
      env: [DEFAULT_PATH, 'C=1', 'B=template'],
      cwd: '/srv',
      user: { uid: 1000, gid: 1001 },
    });
  });

  it("lets the template's command replace entrypoint and cmd", async () => {
    const process = await containerProcess(
      container({ command: ['/bin/other', '-x'] }),
      { Entrypoint: ['/bin/app'], Cmd: ['--serve'] },
      tmp.path,
      'c',
    );
    expect(process.args).toEqual(['/bin/other', '-x']);
    expect(process.cwd).toBe('/');
  });

  it('refuses a container with nothing to run', async () => {
    await expect(containerProcess(container(), {}, tmp.path, 'spec.containers[0]')).rejects.toThrow(
      'spec.containers[0].command: is empty and image oci:/i:t has no entrypoint or cmd',
    );
  });

  it('resolves users and groups by number or name', async () => {
    expect(await resolveUser(tmp.path, '', 'i')).toEqual({ uid: 0, gid: 0 });
    expect(await resolveUser(tmp.path, '7:8', 'i')).toEqual({ uid: 7, gid: 8 });
    expect(await resolveUser(tmp.path, 'app:staff', 'i')).toEqual({ uid: 1000, gid: 50 });
    await expect(resolveUser(tmp.path, 'ghost', 'i')).rejects.toThrow('user "ghost" is not in /etc/passwd');
  });
});
