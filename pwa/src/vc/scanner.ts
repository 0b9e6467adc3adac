// The reception desk's QR reader: the camera through `BarcodeDetector`, with the maintained
// `barcode-detector` ponyfill (zxing-wasm) where the browser lacks it. The wasm file is served by
// us (Vite emits it as an asset), never fetched from a CDN: the CSP allows only our origin.
import wasmUrl from 'zxing-wasm/reader/zxing_reader.wasm?url';

export interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}

interface NativeDetectorCtor {
  new (opts: { formats: string[] }): Detector;
  getSupportedFormats?: () => Promise<string[]>;
}

/** The native detector when it reads QR codes, else the ponyfill (loaded only when needed). */
export async function qrDetector(): Promise<Detector> {
  const native = (globalThis as { BarcodeDetector?: NativeDetectorCtor }).BarcodeDetector;
  if (native?.getSupportedFormats && (await native.getSupportedFormats()).includes('qr_code')) {
    return new native({ formats: ['qr_code'] });
  }
  const { BarcodeDetector, prepareZXingModule } = await import('barcode-detector/ponyfill');
  prepareZXingModule({
    overrides: { locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? wasmUrl : prefix + path) },
  });
  return new BarcodeDetector({ formats: ['qr_code'] });
}

export interface Scanner {
  stop(): void;
}

/**
 * Starts the camera in `video` and calls `onCode` with the first QR read (then stops).
 * Rejects when there is no camera or permission is denied: the page then shows the typed fallback.
 */
export async function startScanner(video: HTMLVideoElement, onCode: (text: string) => void): Promise<Scanner> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  let stopped = false;
  const stop = () => {
    stopped = true;
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  try {
    video.srcObject = stream;
    video.muted = true;
    await video.play();
    const detector = await qrDetector();
    const tick = async (): Promise<void> => {
      if (stopped) return;
      try {
        const found = await detector.detect(video);
        const first = found.find((c) => c.rawValue);
        if (first && !stopped) {
          stop();
          onCode(first.rawValue);
          return;
        }
      } catch {
        // A frame that is not ready yet: try the next one.
      }
      requestAnimationFrame(() => void tick());
    };
    void tick();
  } catch (err) {
    stop();
    throw err;
  }
  return { stop };
}
