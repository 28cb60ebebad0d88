// ProgressLine: redraws in place on a terminal, plain lines elsewhere.
import { describe, expect, it } from 'vitest';
import { ProgressLine, type LineOutput } from '../progress-line.js';

function output(isTTY: boolean, columns?: number): LineOutput & { text: string } {
  return {
    isTTY,
    columns,
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

describe('ProgressLine', () => {
  it('on a terminal: each status replaces the last (carriage return, clear line), ten times a second', () => {
    const out = output(true, 200);
    const line = new ProgressLine(out);
    expect(line.intervalMs).toBe(100);
    line.show('one');
    line.show('two');
    expect(out.text).toBe('\r\x1b[2Kone\r\x1b[2Ktwo');
    line.end();
    expect(out.text).toBe('\r\x1b[2Kone\r\x1b[2Ktwo\n');
  });

  it('not a terminal: each status is a line of its own, once a second, with no control characters', () => {
    const out = output(false);
    const line = new ProgressLine(out);
    expect(line.intervalMs).toBe(1000);
    line.show('one');
    line.show('two');
    line.end();
    expect(out.text).toBe('one\ntwo\n');
  });

  it('on a terminal: a status as wide as the terminal or wider is cut to one column less, so it never wraps', () => {
    const out = output(true, 10);
    const line = new ProgressLine(out);
    line.show('0123456789abc');
    line.show('012345678');
    line.show('0123456789');
    expect(out.text).toBe('\r\x1b[2K012345678\r\x1b[2K012345678\r\x1b[2K012345678');
  });

  it('on a terminal of unknown width: the status is not cut', () => {
    const out = output(true);
    new ProgressLine(out).show('x'.repeat(500));
    expect(out.text).toBe(`\r\x1b[2K${'x'.repeat(500)}`);
  });

  it('print() puts its text below the status line; end() adds a newline only after a drawn status', () => {
    const out = output(true, 80);
    const line = new ProgressLine(out);
    line.print('header');
    line.end();
    expect(out.text).toBe('header\n');
    line.show('status');
    line.print('summary');
    line.end();
    expect(out.text).toBe('header\n\r\x1b[2Kstatus\nsummary\n');
  });
});
