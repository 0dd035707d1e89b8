/**
 * File-system helpers shared by the file driver, its lock and its atomic writes: path safety, optional reads,
 * error codes, the mapping of I/O failures to StorageUnavailableError (never with a path), and the
 * encoding that keeps arbitrary subjects out of path syntax.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, PetLifeError, StorageUnavailableError } from '../errors.js';
import { DEVICE_ID_MESSAGE } from '../rules.js';

/**
 * Path safety: a function building paths inside `root` (resolved) that refuses anything which
 * would resolve outside it. Ids are validated before they become paths; this is defence in depth.
 */
export function insideFolder(root: string): (...segments: string[]) => string {
  return (...segments) => {
    const full = path.resolve(root, ...segments);
    if (!full.startsWith(root + path.sep)) throw new InvalidInputError('invalid_device_id', DEVICE_ID_MESSAGE);
    return full;
  };
}

/** `%XX` for every byte outside A–Z a–z 0–9 _ - (so `..`, `/` and `:` never reach a file name). */
export function encodeSubject(subject: string): string {
  return [...Buffer.from(subject, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9_-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

export async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

export function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}

/** What a file-system error code means, for messages (which never carry a path). */
const IO_PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENOTDIR: 'the data folder is not a folder',
  EISDIR: 'a folder where a file was expected',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EIO: 'input/output error',
  EBUSY: 'resource busy',
  ENOENT: 'a file or folder vanished',
};

/**
 * File-system failures (EACCES, ENOSPC, EROFS…) become StorageUnavailableError; ours pass
 * through. The message names the problem and the system call but never the path (Node's own
 * messages quote it, and this one can reach a client); the original error is the cause.
 */
export async function unavailableOnIoError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const code = errorCode(error) ?? '';
    if (!(error instanceof PetLifeError) && error instanceof Error && /^E[A-Z]+$/.test(code)) {
      const syscall = 'syscall' in error && typeof error.syscall === 'string' ? `, ${error.syscall}` : '';
      throw new StorageUnavailableError(`file storage failed: ${IO_PROBLEMS[code] ?? 'I/O error'} (${code}${syscall})`, {
        cause: error,
      });
    }
    throw error;
  }
}
