/**
 * A throw-away copy of this checkout (its files as they are now, committed or not, and its
 * builds), with a node_modules that shares this one's packages but links `@tasks/*` to the
 * copy's own workspaces, so code built in the copy runs the copy's contracts.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './service-process';

export interface CommandRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Folders never copied: installs, builds, logs (what .gitignore leaves out). */
const NOT_SOURCE = new Set(['.git', 'node_modules', 'dist', 'coverage', 'var']);

/**
 * The checkout's files, committed or not: git's list, or (in a tree without git, as some CI
 * runners unpack one) every file outside the ignored folders.
 */
function sourceFiles(): string[] {
  try {
    return execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: REPO_ROOT,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString('utf8')
      .split('\0')
      .filter((file) => file !== '');
  } catch {
    return walk('');
  }
}

function walk(folder: string): string[] {
  return readdirSync(join(REPO_ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
    const file = join(folder, entry.name);
    if (entry.isDirectory()) return NOT_SOURCE.has(entry.name) ? [] : walk(file);
    return entry.isFile() && !/\.(log|tsbuildinfo)$/.test(entry.name) ? [file] : [];
  });
}

export class RepoCopy {
  private constructor(readonly root: string) {}

  static create(): RepoCopy {
    const root = mkdtempSync(join(tmpdir(), 'tasks-repo-'));
    const files = sourceFiles();
    for (const file of files) {
      try {
        cpSync(join(REPO_ROOT, file), join(root, file), { recursive: false });
      } catch (err) {
        // A file deleted in the work tree but not yet in the index: the copy goes without it.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const copy = new RepoCopy(root);
    copy.copyBuilds();
    copy.linkModules();
    return copy;
  }

  /** The workspaces' dist folders, so the copy's build only redoes what the scaffold changed. */
  private copyBuilds(): void {
    const { workspaces } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      workspaces: string[];
    };
    for (const folder of workspaces) {
      if (!existsSync(join(REPO_ROOT, folder, 'dist'))) continue;
      cpSync(join(REPO_ROOT, folder, 'dist'), join(this.root, folder, 'dist'), {
        recursive: true,
        force: true,
        errorOnExist: false,
      });
    }
  }

  private linkModules(): void {
    const modules = join(this.root, 'node_modules');
    mkdirSync(modules);
    for (const entry of readdirSync(join(REPO_ROOT, 'node_modules'))) {
      const from = join(REPO_ROOT, 'node_modules', entry);
      // `.bin` holds relative links, which then resolve inside the copy; `@tasks` is rebuilt.
      if (entry === '.bin')
        cpSync(from, join(modules, entry), { recursive: true, verbatimSymlinks: true });
      else if (entry !== '@tasks') symlinkSync(from, join(modules, entry));
    }
    mkdirSync(join(modules, '@tasks'));
    for (const link of readdirSync(join(REPO_ROOT, 'node_modules', '@tasks'))) {
      cpSync(join(REPO_ROOT, 'node_modules', '@tasks', link), join(modules, '@tasks', link), {
        verbatimSymlinks: true,
      });
    }
  }

  /** Runs a command in the copy to its end (`timeoutMs` at most); never throws on its exit code. */
  run(
    command: string,
    args: readonly string[],
    options: { env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<CommandRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: this.root,
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timeoutMs = options.timeoutMs ?? 60_000;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(`${command} ${args.join(' ')} ran over ${timeoutMs} ms\n${stdout}\n${stderr}`),
        );
      }, timeoutMs);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  read(file: string): string {
    return readFileSync(join(this.root, file), 'utf8');
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
