#!/usr/bin/env python3
"""TCP proxy that cuts a connection after a given number of server-to-client bytes.

    cutproxy.py --listen-port P --target-port T --cut-after BYTES [--cut-every]
                [--port-file FILE] [--log FILE] [--close rst|fin]

Forwards every connection accepted on 127.0.0.1:P (0 = pick a free port) to 127.0.0.1:T.  On the
first connection (on every one with --cut-every), once BYTES bytes have gone from the server to the
client, exactly BYTES bytes are delivered and both sides are closed abruptly: with a TCP reset by
default (--close rst), or with an orderly FIN (--close fin) when the test needs to know that the
client received every byte before the cut.  Later connections pass through untouched.

--port-file is written (atomically) once the proxy listens; --log gets one line per event:
"open N", "cut N s2c=BYTES c2s=BYTES", "close N s2c=BYTES c2s=BYTES".  SIGTERM or SIGINT ends the
proxy and every connection.  Python 3 standard library only.
"""

import argparse
import os
import selectors
import signal
import socket
import struct
import sys
import threading

lock = threading.Lock()
log_file = None


def log(line):
    if log_file is None:
        return
    with lock:
        log_file.write(line + "\n")
        log_file.flush()


def abort_socket(s, mode):
    try:
        if mode == "rst":
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


def send_all(s, data):
    try:
        s.sendall(data)
        return True
    except OSError:
        return False


def relay(n, client, args, cut_limit):
    try:
        server = socket.create_connection((args.target_host, args.target_port), timeout=10)
    except OSError as e:
        log("error %d connect: %s" % (n, e))
        abort_socket(client, "rst")
        return
    server.settimeout(None)
    client.settimeout(None)
    for s in (client, server):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    log("open %d" % n)
    s2c = c2s = 0
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, "c")
    sel.register(server, selectors.EVENT_READ, "s")
    cut = False
    try:
        while True:
            events = sel.select()
            done = False
            for key, _ in events:
                try:
                    data = key.fileobj.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    done = True
                    break
                if key.data == "c":
                    if not send_all(server, data):
                        done = True
                        break
                    c2s += len(data)
                else:
                    if cut_limit is not None and s2c + len(data) >= cut_limit:
                        data = data[: cut_limit - s2c]
                        if data:
                            send_all(client, data)
                        s2c += len(data)
                        cut = done = True
                        break
                    if not send_all(client, data):
                        done = True
                        break
                    s2c += len(data)
            if done:
                break
    finally:
        sel.close()
        if cut:
            log("cut %d s2c=%d c2s=%d" % (n, s2c, c2s))
            abort_socket(client, args.close)
            abort_socket(server, "rst")
        else:
            for s in (client, server):
                try:
                    s.close()
                except OSError:
                    pass
        log("close %d s2c=%d c2s=%d" % (n, s2c, c2s))


def main():
    global log_file
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen-host", default="127.0.0.1")
    p.add_argument("--listen-port", type=int, default=0)
    p.add_argument("--target-host", default="127.0.0.1")
    p.add_argument("--target-port", type=int, required=True)
    p.add_argument("--cut-after", type=int, required=True, help="server-to-client bytes before the cut")
    p.add_argument("--cut-every", action="store_true", help="cut every connection, not only the first")
    p.add_argument("--close", choices=("rst", "fin"), default="rst")
    p.add_argument("--port-file")
    p.add_argument("--log")
    args = p.parse_args()
    if args.cut_after < 0:
        p.error("--cut-after must be >= 0")

    if args.log:
        log_file = open(args.log, "a", buffering=1)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.listen_host, args.listen_port))
    ls.listen(64)
    port = ls.getsockname()[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)

    n = 0
    try:
        while True:
            client, _ = ls.accept()
            n += 1
            limit = args.cut_after if (n == 1 or args.cut_every) else None
            t = threading.Thread(target=relay, args=(n, client, args, limit), daemon=True)
            t.start()
    except SystemExit:
        pass
    finally:
        ls.close()
        # Daemon threads die with the process: connections end abruptly, as intended.
        if log_file:
            log_file.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
