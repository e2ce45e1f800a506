// A separate uploader process for the crash test: uploads a snapshot with the mover and, once the first file
// is stored and the next one is under way, says MIDWAY on stdout and freezes there (a blocking wait, so no
// further byte moves) until the test SIGKILLs it. The freeze only pins down the moment of the kill.
//
// usage: upload-child <store-uri> <prefix> <dir> <file>... (store settings as JSON in SNAPSHOT_CHILD_CONFIG)
import { openObjectStore, type ObjectStoreConfig } from '@substrate/storage';

import { uploadSnapshot } from '../src/index';
import { METADATA } from './helpers';

async function main(): Promise<void> {
  const [uri, prefix, dir, ...files] = process.argv.slice(2);
  if (uri === undefined || prefix === undefined || dir === undefined || files.length === 0) {
    throw new Error('usage: upload-child <store-uri> <prefix> <dir> <file>...');
  }
  const config = JSON.parse(process.env['SNAPSHOT_CHILD_CONFIG'] ?? '{}') as ObjectStoreConfig;
  const store = await openObjectStore(uri, config);
  let frozen = false;
  await uploadSnapshot(store, prefix, dir, files, {
    metadata: METADATA,
    concurrency: 1,
    onProgress: (progress) => {
      if (frozen || progress.filesDone < 1 || progress.bytesDone >= progress.bytesTotal * 0.5) return;
      if (progress.bytesDone < progress.bytesTotal * 0.25) return;
      frozen = true;
      process.stdout.write('MIDWAY\n'); // a pipe: written synchronously on Linux
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    },
  });
  process.stdout.write('DONE\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
