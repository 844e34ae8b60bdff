/** Compiles to dist/ when it is missing or older than the sources; true when it had to. */
export function ensureBuild(): boolean;
/** Whether dist/ was built from the sources as they are now. */
export function buildIsCurrent(): boolean;
