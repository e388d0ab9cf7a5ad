import { parentPort } from 'node:worker_threads';
import { CameraAnalyzer } from './analyzer.js';
import type { FromWorker, ToWorker } from './protocol.js';

/** The analysis thread: one analyzer per camera, so no frame is measured on the event loop. */
const analyzers = new Map<string, CameraAnalyzer>();
const port = parentPort;
if (!port) throw new Error('the diagnostics analysis runs as a worker thread');

port.on('message', (msg: ToWorker) => {
  const send = (out: FromWorker) => port.postMessage(out);
  try {
    switch (msg.type) {
      case 'configure': {
        const existing = analyzers.get(msg.cameraId);
        if (existing) existing.configure(msg.settings);
        else analyzers.set(msg.cameraId, new CameraAnalyzer(msg.settings, msg.baseline));
        break;
      }
      case 'frame': {
        const analyzer = analyzers.get(msg.cameraId);
        if (!analyzer) return;
        const result = analyzer.push({ width: msg.width, height: msg.height, pixels: new Uint8Array(msg.pixels) });
        send({ type: 'result', cameraId: msg.cameraId, result });
        break;
      }
      case 'gap':
        analyzers.get(msg.cameraId)?.gap();
        break;
      case 'relearn':
        analyzers.get(msg.cameraId)?.relearn();
        break;
      case 'remove':
        analyzers.delete(msg.cameraId);
        break;
    }
  } catch (err) {
    send({ type: 'failed', cameraId: msg.cameraId, message: err instanceof Error ? err.message : String(err) });
  }
});
