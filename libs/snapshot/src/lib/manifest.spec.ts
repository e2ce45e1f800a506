import {
  ManifestSyntaxError,
  ManifestValidationError,
  UnsupportedFormatError,
  createManifest,
  manifestIssues,
  parseManifest,
  runtimeBinary,
  serializeManifest,
  validateFileEntry,
  type SnapshotFileEntry,
} from '../index';

const RUNSC = {
  url: 'gs://gvisor/releases/release/20260622/x86_64/runsc',
  sha256: 'f18a948bf9c8bbb54eb998549a3a8d719a1c7de2efbe8fdd2ff0ee5fecd06f19',
};

function file(name: string, extra: Partial<SnapshotFileEntry> = {}): SnapshotFileEntry {
  return {
    name,
    encoding: 'atesprse-v2+zstd',
    rawSize: 1 << 20,
    compressedSize: 4096,
    compressedCrc32: '0badf00d',
    sha256: 'a'.repeat(64),
    extents: [
      { offset: 0, length: 4096 },
      { offset: 65536, length: 8192 },
    ],
    ...extra,
  };
}

function valid(): Record<string, unknown> {
  return {
    formatVersion: 1,
    sandboxClass: 'gvisor',
    scope: 'Full',
    createdAt: '2026-05-22T21:49:15Z',
    assets: { runsc: { ...RUNSC } },
    snapshotFiles: ['checkpoint.img', 'pages.img'],
    files: [file('checkpoint.img'), file('pages.img')],
  };
}

/** `valid()` with one change applied. */
function mutate(change: (m: Record<string, unknown>) => void): Record<string, unknown> {
  const m = valid();
  change(m);
  return m;
}

function files(m: Record<string, unknown>): Record<string, unknown>[] {
  return m['files'] as Record<string, unknown>[];
}

describe('manifest', () => {
  it('accepts a complete manifest and round-trips it through serialize and parse', () => {
    const parsed = parseManifest(JSON.stringify(valid()));
    expect(parsed.files).toHaveLength(2);
    expect(runtimeBinary(parsed)).toEqual(RUNSC);
    const text = serializeManifest(parsed);
    expect(parseManifest(text)).toEqual(parsed);
    expect(serializeManifest(parseManifest(Buffer.from(text)))).toBe(text);
  });

  it('keeps a file compressedSha256 when it has one (snapshots written before it have none)', () => {
    const document = valid();
    (files(document)[0] as Record<string, unknown>)['compressedSha256'] = 'c'.repeat(64);
    const parsed = parseManifest(JSON.stringify(document));
    expect(parsed.files[0]?.compressedSha256).toBe('c'.repeat(64));
    expect(parsed.files[1]?.compressedSha256).toBeUndefined();
    const text = serializeManifest(parsed);
    expect(text).toContain(`"compressedSha256": "${'c'.repeat(64)}"`);
    expect(text.match(/compressedSha256/g)).toHaveLength(1);
    expect(parseManifest(text)).toEqual(parsed);
  });

  it('keeps a file frames list when it has one, in its canonical form', () => {
    const document = valid();
    // 4,096 compressed bytes less the 12-byte header; 12,288 data bytes in three records plus the framing.
    const frames = [
      { payload: 8000, compressed: 2000 },
      { compressed: 2084, payload: 16 + 3 * 16 + 12288 - 8000 },
    ];
    (files(document)[1] as Record<string, unknown>)['frames'] = frames;
    const parsed = parseManifest(JSON.stringify(document));
    expect(parsed.files[1]?.frames).toEqual(frames);
    expect(parsed.files[0]?.frames).toBeUndefined();
    const text = serializeManifest(parsed);
    expect(text).toContain('"compressed": 2000,\n          "payload": 8000');
    expect(parseManifest(text)).toEqual(parsed);
  });

  it('keeps the upstream fields so an upstream reader finds sandboxClass, assets and snapshotFiles', () => {
    const json = JSON.parse(serializeManifest(parseManifest(JSON.stringify(valid())))) as Record<
      string,
      unknown
    >;
    expect(json['sandboxClass']).toBe('gvisor');
    expect(json['assets']).toEqual({ runsc: RUNSC });
    expect(json['snapshotFiles']).toEqual(['checkpoint.img', 'pages.img']);
  });

  it('builds a manifest from encoder entries with createManifest', () => {
    const m = createManifest({
      sandboxClass: 'gvisor',
      scope: 'Data',
      assets: { runsc: RUNSC },
      files: [file('multitar.img'), file('fscheckpoint.json')],
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
    });
    expect(m.formatVersion).toBe(1);
    expect(m.createdAt).toBe('2026-01-02T03:04:05.678Z');
    expect(m.snapshotFiles).toEqual(['multitar.img', 'fscheckpoint.json']);
  });

  const invalid: [string, unknown, string[]][] = [
    ['not an object', [1, 2], ['a manifest must be a JSON object']],
    [
      'missing formatVersion (an upstream manifest)',
      mutate((m) => delete m['formatVersion']),
      ['formatVersion: required (manifests without it are written by upstream Substrate)'],
    ],
    ['formatVersion 0', mutate((m) => (m['formatVersion'] = 0)), ['formatVersion: must be 1']],
    ['unknown top-level field', mutate((m) => (m['extra'] = true)), ['extra: unknown field']],
    [
      'unknown sandbox class',
      mutate((m) => (m['sandboxClass'] = 'docker')),
      ['sandboxClass: must be one of "gvisor", "microvm"'],
    ],
    [
      'scope in the wrong case',
      mutate((m) => (m['scope'] = 'full')),
      ['scope: must be one of "Full", "Data"'],
    ],
    [
      'createdAt not RFC 3339',
      mutate((m) => (m['createdAt'] = '22/05/2026 21:49')),
      ['createdAt: must be an RFC 3339 timestamp such as 2026-05-22T21:49:15Z'],
    ],
    [
      'gvisor snapshot without runsc',
      mutate((m) => (m['assets'] = {})),
      ['assets.runsc: required: a gvisor snapshot records the runsc binary it was taken with'],
    ],
    [
      'runsc sha256 in upper case',
      mutate((m) => (m['assets'] = { runsc: { ...RUNSC, sha256: RUNSC.sha256.toUpperCase() } })),
      ['assets.runsc.sha256: must be 64 lowercase hex digits'],
    ],
    [
      'runsc url relative',
      mutate((m) => (m['assets'] = { runsc: { ...RUNSC, url: 'releases/runsc' } })),
      ['assets.runsc.url: must be an absolute gs://, s3://, https://, http:// or file:// URL'],
    ],
    [
      'files empty',
      mutate((m) => ((m['files'] = []), (m['snapshotFiles'] = []))),
      ['files: must list at least one file'],
    ],
    [
      'file name with ..',
      mutate((m) => ((files(m)[0] as Record<string, unknown>)['name'] = '../etc/passwd')),
      [
        'files[0].name: must not contain . or .. segments',
        'snapshotFiles[0]: must be "../etc/passwd", the name of files[0]',
      ],
    ],
    [
      'absolute file name',
      mutate((m) => {
        (files(m)[1] as Record<string, unknown>)['name'] = '/var/lib/pages.img';
        m['snapshotFiles'] = ['checkpoint.img', '/var/lib/pages.img'];
      }),
      ['files[1].name: must be a relative path, not absolute'],
    ],
    [
      'duplicate file names',
      mutate((m) => {
        (files(m)[1] as Record<string, unknown>)['name'] = 'checkpoint.img';
        m['snapshotFiles'] = ['checkpoint.img', 'checkpoint.img'];
      }),
      ['files[1].name: duplicate of files[0].name'],
    ],
    [
      'negative rawSize',
      mutate((m) => ((files(m)[0] as Record<string, unknown>)['rawSize'] = -1)),
      ['files[0].rawSize: must be a non-negative integer'],
    ],
    [
      'fractional compressedSize',
      mutate((m) => ((files(m)[0] as Record<string, unknown>)['compressedSize'] = 12.5)),
      ['files[0].compressedSize: must be a non-negative integer'],
    ],
    [
      'compressedSize smaller than the header',
      mutate((m) => ((files(m)[0] as Record<string, unknown>)['compressedSize'] = 11)),
      ['files[0].compressedSize: must be at least 12 (the stream header)'],
    ],
    [
      'unknown encoding',
      mutate((m) => ((files(m)[0] as Record<string, unknown>)['encoding'] = 'gzip')),
      ['files[0].encoding: must be one of "atesprse-v2+zstd"'],
    ],
    [
      'compressedCrc32 as a number',
      mutate((m) => ((files(m)[0] as Record<string, unknown>)['compressedCrc32'] = 12345)),
      ['files[0].compressedCrc32: must be a string'],
    ],
    [
      'compressedCrc32 in upper case',
      mutate((m) => ((files(m)[0] as Record<string, unknown>)['compressedCrc32'] = '0BADF00D')),
      ['files[0].compressedCrc32: must be 8 lowercase hex digits'],
    ],
    [
      'compressedSha256 too short',
      mutate((m) => ((files(m)[0] as Record<string, unknown>)['compressedSha256'] = 'ab12')),
      ['files[0].compressedSha256: must be 64 lowercase hex digits'],
    ],
    [
      'sha256 too short',
      mutate((m) => ((files(m)[1] as Record<string, unknown>)['sha256'] = 'abc')),
      ['files[1].sha256: must be 64 lowercase hex digits'],
    ],
    [
      'zero-length extent',
      mutate((m) => ((files(m)[0] as Record<string, unknown>)['extents'] = [{ offset: 0, length: 0 }])),
      ['files[0].extents[0].length: must be positive'],
    ],
    [
      'overlapping extents',
      mutate(
        (m) =>
          ((files(m)[1] as Record<string, unknown>)['extents'] = [
            { offset: 0, length: 4096 },
            { offset: 4000, length: 10 },
          ]),
      ),
      [
        'files[1].extents[1].offset: must be greater than 4096, where the previous extent ends (extents are sorted, neither overlapping nor touching)',
      ],
    ],
    [
      'extent past the end of the file',
      mutate(
        (m) => ((files(m)[0] as Record<string, unknown>)['extents'] = [{ offset: 1048000, length: 1000 }]),
      ),
      ['files[0].extents[0]: ends at 1049000, past rawSize 1048576'],
    ],
    [
      'extent with an unknown field',
      mutate(
        (m) =>
          ((files(m)[0] as Record<string, unknown>)['extents'] = [{ offset: 0, length: 1, hole: false }]),
      ),
      ['files[0].extents[0].hole: unknown field'],
    ],
    [
      'snapshotFiles out of order',
      mutate((m) => (m['snapshotFiles'] = ['pages.img', 'checkpoint.img'])),
      [
        'snapshotFiles[0]: must be "checkpoint.img", the name of files[0]',
        'snapshotFiles[1]: must be "pages.img", the name of files[1]',
      ],
    ],
    [
      'snapshotFiles missing an entry',
      mutate((m) => (m['snapshotFiles'] = ['checkpoint.img'])),
      ['snapshotFiles: must have 2 entries, the names of files in order'],
    ],
    [
      'frames that do not add up to the object and its extents',
      mutate(
        (m) =>
          ((files(m)[0] as Record<string, unknown>)['frames'] = [
            { compressed: 100, payload: 12288 },
            { compressed: 200, payload: 40 },
          ]),
      ),
      [
        'files[0].frames: compressed sizes add up to 300, not compressedSize less the header',
        'files[0].frames: payload sizes add up to 12328, which does not fit 12288 data bytes in records',
      ],
    ],
    [
      'malformed frames',
      mutate(
        (m) =>
          ((files(m)[0] as Record<string, unknown>)['frames'] = [{ compressed: 0, payload: 1.5, level: 1 }]),
      ),
      [
        'files[0].frames[0].level: unknown field',
        'files[0].frames[0].compressed: must be positive',
        'files[0].frames[0].payload: must be a non-negative integer',
      ],
    ],
    [
      'an empty frames list',
      mutate((m) => ((files(m)[0] as Record<string, unknown>)['frames'] = [])),
      ['files[0].frames: must be a non-empty array'],
    ],
    [
      'file entry missing its sha256 and extents',
      mutate((m) => {
        const f = files(m)[0] as Record<string, unknown>;
        delete f['sha256'];
        delete f['extents'];
      }),
      ['files[0].sha256: required', 'files[0].extents: required'],
    ],
  ];

  it.each(invalid)('rejects a manifest with %s', (_label, document, messages) => {
    expect(manifestIssues(document).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))).toEqual(
      messages,
    );
    const parse = (): unknown => parseManifest(JSON.stringify(document));
    expect(parse).toThrow(ManifestValidationError);
    expect(parse).toThrow(
      expect.objectContaining({
        code: 'MANIFEST_INVALID',
        message: `invalid manifest: ${messages.join('; ')}`,
      }),
    );
  });

  it('reports malformed JSON as MANIFEST_SYNTAX', () => {
    expect(() => parseManifest('{"formatVersion": 1,')).toThrow(ManifestSyntaxError);
    expect(() => parseManifest('{')).toThrow(expect.objectContaining({ code: 'MANIFEST_SYNTAX' }));
  });

  it('refuses a manifest from a newer format version with UNSUPPORTED_FORMAT', () => {
    const text = JSON.stringify(mutate((m) => ((m['formatVersion'] = 2), (m['newField'] = {}))));
    expect(() => parseManifest(text)).toThrow(UnsupportedFormatError);
    expect(() => parseManifest(text)).toThrow(
      'formatVersion: manifest format 2 is newer than this build reads (1)',
    );
  });

  it('will not serialize an invalid manifest', () => {
    const bad = { ...parseManifest(JSON.stringify(valid())), scope: 'Everything' };
    expect(() => serializeManifest(bad as never)).toThrow('scope: must be one of "Full", "Data"');
  });

  it('validates a lone file entry with paths relative to it', () => {
    expect(() => validateFileEntry({ ...file('x'), rawSize: 'big' })).toThrow(
      'invalid manifest: rawSize: must be a non-negative integer',
    );
    expect(validateFileEntry(file('nested/dir/x.img')).name).toBe('nested/dir/x.img');
  });
});
