import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Settings } from '@substrate/service';
import { tempDir } from '@substrate/testing';
import { loadAteletConfig } from './config';

describe('atelet configuration', () => {
  it('defaults to loopback listen addresses and the shared node directory', () => {
    const config = loadAteletConfig(new Settings({}));
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8483 });
    expect(config.grpc).toEqual({ host: '127.0.0.1', port: 8085 });
    expect(config.actorsDir).toBe('/var/lib/substrate/actors');
    expect(config.logDir).toBe('/var/lib/substrate/logs');
    expect(config.workers).toEqual([]);
    expect(config.registration).toBeUndefined();
  });

  it('reads actor logs where the ateoms of the same root write them, or from ATELET_LOG_DIR', () => {
    expect(loadAteletConfig(new Settings({ ATELET_ROOT: '/srv/node' })).logDir).toBe('/srv/node/logs');
    expect(
      loadAteletConfig(new Settings({ ATELET_ROOT: '/srv/node', ATELET_LOG_DIR: '/var/log/actors' })).logDir,
    ).toBe('/var/log/actors');
  });

  it('names the setting when it is malformed', () => {
    expect(() => loadAteletConfig(new Settings({ ATELET_HTTP_LISTEN: 'nowhere' }))).toThrow(
      'invalid configuration: ATELET_HTTP_LISTEN: expected host:port, got "nowhere"',
    );
  });

  it('reads workers from JSON (or YAML) and checks each field', () => {
    const workers = JSON.stringify([
      { name: 'w0', pool: 'counter', socket: '/srv/w0/ateom.sock', endpoint: '169.254.128.2:80' },
      {
        name: 'w1',
        uid: 'uid-1',
        namespace: 'demo',
        pool: 'counter',
        socket: '/srv/w1/ateom.sock',
        endpoint: '169.254.128.6:8080',
      },
    ]);
    expect(loadAteletConfig(new Settings({ ATELET_WORKERS: workers })).workers).toEqual([
      {
        name: 'w0',
        uid: 'w0',
        namespace: 'default',
        pool: 'counter',
        socket: '/srv/w0/ateom.sock',
        endpoint: { ip: '169.254.128.2', port: 80 },
      },
      {
        name: 'w1',
        uid: 'uid-1',
        namespace: 'demo',
        pool: 'counter',
        socket: '/srv/w1/ateom.sock',
        endpoint: { ip: '169.254.128.6', port: 8080 },
      },
    ]);
    expect(() =>
      loadAteletConfig(
        new Settings({ ATELET_WORKERS: '[{"name":"w0","pool":"p","socket":"rel","endpoint":"1.2.3.4:80"}]' }),
      ),
    ).toThrow('invalid configuration: ATELET_WORKERS[0].socket: must be an absolute path');
    expect(() =>
      loadAteletConfig(
        new Settings({ ATELET_WORKERS: '[{"name":"w0","pool":"p","socket":"/s","endpoint":"nowhere"}]' }),
      ),
    ).toThrow('ATELET_WORKERS[0].endpoint: expected ipv4:port, got "nowhere"');
    expect(() => loadAteletConfig(new Settings({ ATELET_WORKERS: '{}' }))).toThrow(
      'ATELET_WORKERS: expected a list of workers',
    );
  });

  it('turns registration on with the ateapi address', () => {
    const config = loadAteletConfig(
      new Settings({
        ATELET_ATEAPI_ADDRESS: '127.0.0.1:8443',
        ATELET_NODE_NAME: 'node-a',
        ATELET_GRPC_LISTEN: '127.0.0.1:9000',
      }),
    );
    expect(config.registration).toEqual({
      ateapiAddress: '127.0.0.1:8443',
      nodeName: 'node-a',
      advertiseAddress: '127.0.0.1:9000',
      leaseSeconds: 30,
    });
  });

  it('reads registry credentials from a Docker config.json', () => {
    const tmp = tempDir('atelet-config');
    const file = join(tmp.path, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        auths: {
          'https://ghcr.io': { auth: Buffer.from('me:pa:ss').toString('base64') },
          '127.0.0.1:5000': { username: 'u', password: 'p' },
        },
      }),
    );
    expect(loadAteletConfig(new Settings({ ATELET_REGISTRY_AUTH_FILE: file })).registryAuth).toEqual({
      'ghcr.io': { username: 'me', password: 'pa:ss' },
      '127.0.0.1:5000': { username: 'u', password: 'p' },
    });
    writeFileSync(file, JSON.stringify({ auths: { x: {} } }));
    expect(() => loadAteletConfig(new Settings({ ATELET_REGISTRY_AUTH_FILE: file }))).toThrow(
      'ATELET_REGISTRY_AUTH_FILE: auths.x: needs auth',
    );
    tmp.remove();
  });

  it('needs both halves of the TLS certificate', () => {
    expect(() => loadAteletConfig(new Settings({ ATELET_TLS_CERT_FILE: '/x.crt' }))).toThrow(
      'invalid configuration: ATELET_TLS_KEY_FILE: required when the other half of the certificate is set',
    );
    expect(() => loadAteletConfig(new Settings({ ATELET_TLS_CLIENT_CA_FILE: '/ca.crt' }))).toThrow(
      'ATELET_TLS_CLIENT_CA_FILE: needs ATELET_TLS_CERT_FILE and ATELET_TLS_KEY_FILE',
    );
    expect(() =>
      loadAteletConfig(
        new Settings({ ATELET_TLS_CERT_FILE: '/missing.crt', ATELET_TLS_KEY_FILE: '/missing.key' }),
      ),
    ).toThrow('ATELET_TLS_CERT_FILE: cannot read /missing.crt');
  });
});
