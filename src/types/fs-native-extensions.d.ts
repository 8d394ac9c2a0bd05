/** The part of fs-native-extensions this project uses (the package ships no type declarations). */
declare module 'fs-native-extensions' {
  /** Non-blocking exclusive (or shared) flock on `fd`; false when another holder has it. */
  export function tryLock(fd: number, offset?: number, length?: number, opts?: { shared?: boolean }): boolean;
  export function unlock(fd: number, offset?: number, length?: number): void;
  const fsx: { tryLock: typeof tryLock; unlock: typeof unlock };
  export default fsx;
}
