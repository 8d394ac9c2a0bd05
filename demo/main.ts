/**
 * `npm start`: the embedded demo. Until you configure real servers, this is the main job. The
 * first line is printed before anything loads; the steps (demo/walkthrough.ts) follow. Ctrl-C
 * stops the servers and removes the demo's home folder before exiting (130).
 */
console.log('mcp-oauth-manager demo: starting an authorization server and an MCP server on 127.0.0.1 ...');

const cleanups: Array<() => Promise<unknown>> = [];
let cleaning: Promise<void> | undefined;
const cleanUp = () => {
  cleaning ??= (async () => {
    for (const undo of cleanups.reverse()) await undo().catch(() => undefined);
  })();
  return cleaning;
};

let interrupted = false;
process.on('SIGINT', () => {
  interrupted = true;
  void cleanUp().then(() => {
    // Written, then exit: on a pipe, console.log is asynchronous and process.exit would drop it.
    process.stdout.write("\nInterrupted: the demo's servers are stopped and its home folder removed.\n", () =>
      process.exit(130),
    );
  });
});

try {
  const { runDemo } = await import('./walkthrough.js');
  await runDemo(cleanups);
  await cleanUp();
  if (!interrupted)
    console.log(`
Done: every server above is stopped and the demo home folder removed.

What next, with a real server:
  mcp-oauth servers add notion https://mcp.notion.com/mcp
  mcp-oauth login notion
  mcp-oauth status
(mcp-oauth not installed? npm install -g mcp-oauth-manager, or see "Install" in the README.
Or try the CLI by hand against local servers: npm run kit)`);
} catch (error) {
  // After Ctrl-C, the steps fail as their servers stop: the SIGINT handler reports and exits.
  if (!interrupted) {
    await cleanUp();
    console.error(error);
    process.exit(1);
  }
}
