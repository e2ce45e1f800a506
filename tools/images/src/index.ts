// Test images: small real OCI images (as OCI image layouts) that the tests and demos run in gVisor.
export {
  COUNTER_DURABLE_DIR,
  COUNTER_PORT,
  COUNTER_SCRIPT_PATH,
  COUNTER_SOURCE,
  parseCounterReply,
  type CounterReply,
} from './counter-app';
export {
  IMAGE_NAMES,
  PAUSE_PATH,
  PAUSE_SOURCE,
  buildImage,
  defaultCacheDir,
  type BuildOptions,
  type BuiltImage,
  type ImageName,
} from './images';
export {
  MEDIA_TYPES,
  REPRODUCIBLE_TAR_FLAGS,
  writeLayer,
  writeOciLayout,
  type Descriptor,
  type ImageRuntimeConfig,
  type OciLayout,
  type OciLayoutSpec,
} from './oci-layout';
export { buildBusyboxRootfs, buildNodeRootfs, sharedLibraries } from './rootfs';
export { SHELL_PORT, SHELL_SCRIPT_PATH, SHELL_SOURCE } from './shell-app';
