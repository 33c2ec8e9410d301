// A plain web server on loopback serving a directory's files the way a dataset mirror does: ETag and
// Last-Modified, byte ranges (206), If-Match preconditions (412). For the https:// source's tests.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface FileServer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** host:port, as HTTPS_ALLOWED_HOSTS names it. */
  host: string;
  close(): Promise<void>;
}

export async function serveDirectory(root: string): Promise<FileServer> {
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0]!)));
    if (!path.startsWith(root)) return void res.writeHead(403).end();
    Promise.all([readFile(path), stat(path)]).then(
      ([body, st]) => {
        const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
        const ifMatch = req.headers['if-match'];
        if (ifMatch && ifMatch !== etag) return void res.writeHead(412).end();
        const headers: Record<string, string | number> = { etag, 'last-modified': st.mtime.toUTCString(), 'accept-ranges': 'bytes' };
        const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        let part = body;
        let status = 200;
        if (range) {
          const start = Number(range[1]);
          const end = Math.min(Number(range[2]), body.length - 1);
          part = body.subarray(start, end + 1);
          status = 206;
          headers['content-range'] = `bytes ${start}-${end}/${body.length}`;
        }
        headers['content-length'] = part.length;
        res.writeHead(status, headers);
        res.end(req.method === 'HEAD' ? undefined : part);
      },
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
