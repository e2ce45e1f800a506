import { isAbsolute } from 'node:path';
import { InvalidImageReferenceError } from '../errors/atelet-error';

/**
 * Where an image comes from:
 * - `oci:<absolute dir>[:<tag>]` or `oci:<absolute dir>@sha256:<hex>`: an OCI image layout directory on the
 *   node (the names skopeo and umoci use); without tag or digest the layout must hold exactly one image;
 * - anything else: a registry reference `[<host>[:<port>]/]<repository>[:<tag>][@sha256:<hex>]`, pulled with
 *   the Registry HTTP API v2 (plain HTTP for `localhost` and 127.0.0.0/8 hosts, HTTPS otherwise).
 */
export type ImageReference =
  | { readonly kind: 'layout'; readonly dir: string; readonly tag?: string; readonly digest?: string }
  | {
      readonly kind: 'registry';
      readonly registry: string;
      readonly repository: string;
      readonly tag?: string;
      readonly digest?: string;
    };

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export function parseImageReference(reference: string): ImageReference {
  if (reference === '') throw new InvalidImageReferenceError(reference, 'empty');
  if (reference.startsWith('oci:')) {
    let rest = reference.slice('oci:'.length);
    let digest: string | undefined;
    let tag: string | undefined;
    const at = rest.lastIndexOf('@');
    if (at !== -1) {
      digest = rest.slice(at + 1);
      rest = rest.slice(0, at);
      if (!DIGEST.test(digest))
        throw new InvalidImageReferenceError(reference, 'digest must be sha256:<64 hex>');
    } else {
      const colon = rest.lastIndexOf(':');
      if (colon !== -1) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!TAG.test(tag)) throw new InvalidImageReferenceError(reference, `bad tag ${JSON.stringify(tag)}`);
      }
    }
    if (!isAbsolute(rest) || rest.split('/').includes('..')) {
      throw new InvalidImageReferenceError(
        reference,
        'the layout directory must be an absolute path without ..',
      );
    }
    return {
      kind: 'layout',
      dir: rest,
      ...(tag !== undefined && { tag }),
      ...(digest !== undefined && { digest }),
    };
  }
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest))
      throw new InvalidImageReferenceError(reference, 'digest must be sha256:<64 hex>');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidImageReferenceError(reference, `bad tag ${JSON.stringify(tag)}`);
  }
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  const registry = hasRegistry ? first : 'registry-1.docker.io';
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (!hasRegistry && !repository.includes('/')) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository))
    throw new InvalidImageReferenceError(reference, `bad repository ${JSON.stringify(repository)}`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return {
    kind: 'registry',
    registry,
    repository,
    ...(tag !== undefined && { tag }),
    ...(digest !== undefined && { digest }),
  };
}

/** The reference as text (for logs and errors). */
export function formatImageReference(reference: ImageReference): string {
  const suffix = `${reference.tag !== undefined ? `:${reference.tag}` : ''}${reference.digest !== undefined ? `@${reference.digest}` : ''}`;
  return reference.kind === 'layout'
    ? `oci:${reference.dir}${suffix}`
    : `${reference.registry}/${reference.repository}${suffix}`;
}
