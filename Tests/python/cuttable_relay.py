#!/usr/bin/env python3
"""A TCP relay whose open connections can all be cut at once, as a dropped network would cut them.
Usage: cuttable_relay.py TARGET_PORT — prints `listening PORT`, relays 127.0.0.1:PORT to 127.0.0.1:TARGET_PORT,
prints `accepted` for each connection, and on SIGUSR1 closes every connection open then (printing `cut N`, N the
sockets closed). Stops on SIGTERM."""
import signal
import socket
import sys
import threading

target = ("127.0.0.1", int(sys.argv[1]))
listener = socket.create_server(("127.0.0.1", 0))
lock = threading.Lock()
open_sockets = set()


def close(end):
    with lock:
        open_sockets.discard(end)
    try:
        end.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    end.close()


def pump(source, sink):
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    for end in (source, sink):
        close(end)


def accept():
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(target)
        except OSError:
            client.close()
            continue
        with lock:
            open_sockets.update((client, upstream))
        print("accepted", flush=True)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(source, sink), daemon=True).start()


def cut(*_):
    with lock:
        ends = list(open_sockets)
    for end in ends:
        close(end)
    print(f"cut {len(ends)}", flush=True)


# A parent may have blocked these (a test runner's threads do), and a spawned process inherits the mask.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1, signal.SIGTERM})
signal.signal(signal.SIGUSR1, cut)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
threading.Thread(target=accept, daemon=True).start()
print(f"listening {listener.getsockname()[1]}", flush=True)
while True:
    signal.pause()
