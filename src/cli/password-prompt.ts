/** Reading a password on the terminal without echo, for the commands that unlock keystores. */

/**
 * Reads a line from the terminal without echoing it (stdin must be a TTY).
 * @param prompt written to stderr first
 * @returns what was typed, or undefined when the user pressed Ctrl+C
 * @example const password = await promptHidden('password of alice.keystore.json: ')
 */
export function promptHidden(prompt: string): Promise<string | undefined> {
  const stdin = process.stdin;
  return new Promise((resolve) => {
    let value = '';
    const finish = (result: string | undefined): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      resolve(result);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish(value);
          return;
        }
        if (ch === '\u0003') {
          finish(undefined);
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    process.stderr.write(prompt);
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
