/**
 * The detector worker's Python source, run as `/usr/bin/python3 -c` so it ships inside the
 * compiled gateway with no extra file to install. It uses OpenCV's Haar cascades (Debian's
 * python3-opencv and opencv-data); see docs/desensitization.md for why these and the protocol.
 */
export const DETECTOR_PY = String.raw`#!/usr/bin/python3
"""Face (and plate) detector worker for psv-gateway's desensitizer.

Runs OpenCV's cascades from Debian's opencv-data through python3-opencv, one frame at a time:
  stdin:  frames, each a 4-byte little-endian length N, N bytes of JSON
          {"id": int, "width": int, "height": int, "faces": bool, "plates": bool},
          then width*height bytes of 8-bit grayscale pixels.
  stdout: one JSON line per frame: {"id": int, "faces": [[x,y,w,h,cascade],...], "plates": [[x,y,w,h],...], "cpuMs": float},
          cascade naming the one that fired: "frontal", "profile" or "profileMirrored" (the profile
          cascade on the mirror image, box mapped back);
          preceded once by {"ready": true, ...} when the cascades are loaded.
Faces: the frontal cascade plus the profile cascade on the frame and its mirror image (the
profile cascade only knows one side). Exit code 2: python3-opencv or a cascade is missing.
"""

import json
import os
import struct
import sys
import time

try:
    import cv2
    import numpy as np
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.stderr.write("python3-opencv is missing (%s); install it with: apt-get install -y python3-opencv opencv-data\n" % e)
    sys.exit(2)

CASCADE_DIRS = [os.environ.get("CASCADE_DIR", ""), "/usr/share/opencv4/haarcascades", "/usr/share/opencv/haarcascades"]


def load(name):
    for d in CASCADE_DIRS:
        path = os.path.join(d, name) if d else ""
        if path and os.path.exists(path):
            c = cv2.CascadeClassifier(path)
            if not c.empty():
                return c
    sys.stderr.write("cascade %s not found in %s; install it with: apt-get install -y opencv-data\n" % (name, ", ".join(d for d in CASCADE_DIRS if d)))
    sys.exit(2)


def read_exact(stream, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def main():
    scale_factor = float(os.environ.get("DETECT_SCALE_FACTOR", "1.2"))
    min_neighbors = int(os.environ.get("DETECT_MIN_NEIGHBORS", "3"))
    min_size = int(os.environ.get("DETECT_MIN_SIZE", "20"))
    # Profiles cost about three quarters of the CPU (two passes of a larger cascade); off, only frontal faces are found.
    with_profiles = os.environ.get("DETECT_PROFILES", "1") != "0"
    # The gateway runs one detector per camera: one thread each keeps the CPU cost per camera predictable.
    cv2.setNumThreads(1)
    frontal = load("haarcascade_frontalface_alt2.xml")
    profile = load("haarcascade_profileface.xml")
    plate = load("haarcascade_russian_plate_number.xml")
    out = sys.stdout
    out.write(json.dumps({"ready": True, "opencv": cv2.__version__}) + "\n")
    out.flush()
    stdin = sys.stdin.buffer
    while True:
        head = read_exact(stdin, 4)
        if head is None:
            return 0
        (n,) = struct.unpack("<I", head)
        meta = json.loads(read_exact(stdin, n) or b"{}")
        w, h = int(meta["width"]), int(meta["height"])
        pixels = read_exact(stdin, w * h)
        if pixels is None:
            return 0
        t0 = time.process_time()
        gray = np.frombuffer(pixels, dtype=np.uint8).reshape(h, w)
        kw = dict(scaleFactor=scale_factor, minNeighbors=min_neighbors, minSize=(min_size, min_size))
        faces = []
        plates = []
        if meta.get("faces", True):
            faces += [list(map(int, r)) + ["frontal"] for r in frontal.detectMultiScale(gray, **kw)]
            if with_profiles:
                faces += [list(map(int, r)) + ["profile"] for r in profile.detectMultiScale(gray, **kw)]
                mirrored = cv2.flip(gray, 1)
                faces += [[w - int(r[0]) - int(r[2]), int(r[1]), int(r[2]), int(r[3]), "profileMirrored"] for r in profile.detectMultiScale(mirrored, **kw)]
        if meta.get("plates", False):
            plates += [list(map(int, r)) for r in plate.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=3, minSize=(24, 8))]
        cpu_ms = (time.process_time() - t0) * 1000.0
        out.write(json.dumps({"id": meta.get("id"), "faces": faces, "plates": plates, "cpuMs": round(cpu_ms, 2)}) + "\n")
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
`;
