/**
 * How a run talks to its reader: progress bars on a TTY, plain lines otherwise, or JSON Lines with
 * `--json` (one event object per line on stdout; nothing else goes to stdout then). Colour follows
 * the terminal and NO_COLOR (https://no-color.org).
 */
import cliProgress from 'cli-progress';
import pc from 'picocolors';
import type { ProgressEvent } from '@fairgpu/nn';

export type DisplayMode = 'tty' | 'plain' | 'json';

export interface Display {
  readonly mode: DisplayMode;
  /** Colour functions (identity when colour is off). */
  readonly colors: ReturnType<typeof pc.createColors>;
  log(line: string): void;
  warn(line: string): void;
  progress(task: string, event: ProgressEvent): void;
  event(type: string, data: Record<string, unknown>): void;
  /** Stops the bars (idempotent); later lines print plainly. */
  close(): void;
}

export interface DisplayOptions {
  json?: boolean;
  /** Progress bars even when stdout is a TTY: false for `--no-progress`. */
  progress?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export function createDisplay(options: DisplayOptions = {}): Display {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const write = (stream: NodeJS.WritableStream, line: string) => stream.write(`${line}\n`);

  if (options.json) {
    const emit = (type: string, data: Record<string, unknown>) => write(stdout, JSON.stringify({ type, time: new Date().toISOString(), ...data }));
    return {
      mode: 'json',
      colors: pc.createColors(false),
      log: (message) => emit('log', { message }),
      warn: (message) => emit('warning', { message }),
      progress: (task, e) => emit(e.type, { task, ...e }),
      event: emit,
      close: () => {},
    };
  }

  const colors = pc.createColors(colorEnabled(stdout, env));
  const tty = options.progress !== false && stdout.isTTY === true && env.TERM !== 'dumb';
  let multibar: cliProgress.MultiBar | null = tty
    ? new cliProgress.MultiBar(
        {
          format: `{task} ${colors.cyan('{bar}')} {value}/{total} steps │ epoch {epoch} │ loss {loss} │ {ips} img/s │ ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          barsize: 24,
          stream: stdout as NodeJS.WriteStream,
          // Pad the numbers so a bar's line does not shift while its values grow.
          autopadding: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const bars = new Map<string, cliProgress.SingleBar>();
  const line = (text: string) => (multibar ? multibar.log(`${text}\n`) : write(stdout, text));

  return {
    mode: tty ? 'tty' : 'plain',
    colors,
    log: line,
    warn: (text) => (multibar ? multibar.log(`${colors.yellow(`warning: ${text}`)}\n`) : write(stderr, colors.yellow(`warning: ${text}`))),
    progress(task, e) {
      if (e.type === 'step' && multibar) {
        const payload = { task: task.padEnd(24), epoch: e.epoch + 1, loss: e.loss?.toFixed(4) ?? '-', ips: e.imagesPerSecond.toFixed(0) };
        let bar = bars.get(task);
        if (!bar) bars.set(task, (bar = multibar.create(e.totalSteps, 0, payload)));
        bar.update(e.globalStep, payload);
      } else if (e.type === 'epoch') {
        line(
          `${colors.bold(task)}: epoch ${e.epoch + 1}/${e.epochs} mean loss ${e.meanLoss.toFixed(4)}, ${e.seconds.toFixed(1)} s, ${e.imagesPerSecond.toFixed(0)} images/s`,
        );
      }
    },
    event: () => {},
    close() {
      multibar?.stop();
      multibar = null;
    },
  };
}
