"""Dask plumbing of a screening run: connect to (or start) a cluster, ship the model, gather results.

* ``scheduler=None``: an embedded ``distributed.LocalCluster`` on 127.0.0.1, ``n_workers`` processes with one
  thread each; the bundled model then limits torch to ``cpu_count // n_workers`` threads per process;
* ``"tcp://host:port"`` (or ``host:port``): an existing cluster; waits up to 60 s for a first worker;
* a ``distributed.Client``: used as is and left open.

Results are handled in completion order (``as_completed``); a task that could not run (worker died,
KilledWorker, lost connection) becomes an error row and the batch goes on. On interruption the pending tasks
are cancelled.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from ..errors import ElfvizError
from .worker import BundledModel, screen_one

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 20.0
"""How long to try to reach a remote Dask scheduler before giving up, s."""


class ClusterError(ElfvizError):
    """The Dask cluster cannot be reached or started."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def gather(
    client,
    items,
    model_arg,
    kwargs: Mapping[str, Any],
    by_key: Mapping[str, Any],
    handle: Callable[[Mapping[str, Any], Any], None],
) -> None:
    """Submit one :func:`screen_one` task per item and call ``handle(result, item)`` as each finishes."""
    from distributed import as_completed

    futures = [client.submit(screen_one, item.payload(), model_arg, pure=False, **kwargs) for item in items]
    item_keys = {future.key: item.key for future, item in zip(futures, items, strict=True)}
    try:
        for future in as_completed(futures):
            item = by_key[item_keys[future.key]]
            try:
                out = future.result()
            except Exception as exc:  # the worker died or the task could not run: record it, go on
                out = {
                    "row": {
                        "key": item.key,
                        "status": "error",
                        "spacing_angstrom": kwargs["spacing"],
                        "connectivity": kwargs["connectivity"],
                        **kwargs["config"],
                        "error": f"dask: {type(exc).__name__}: {exc}",
                        "finished_utc": _now(),
                    },
                    "dataset": None,
                }
            handle(out, item)
            future.release()  # let the cluster forget the result (fields can be large)
    except BaseException:
        client.cancel(futures)
        raise


@contextmanager
def dask_client(scheduler: Any, n_workers: int):
    """Yield ``(client, embedded)``: a client on the requested cluster, closed afterwards if we made it."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ClusterError(
            f"Dask distributed is not installed ({exc}); install elfviz[dist], or use --scheduler inline"
        ) from None
    if isinstance(scheduler, Client):
        yield scheduler, False
        return
    if scheduler is None:
        log.info("starting a local Dask cluster: %d worker process(es), 1 thread each", n_workers)
        try:
            cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.WARNING,
            )
        except Exception as exc:
            raise ClusterError(
                f"could not start a local Dask cluster ({type(exc).__name__}: {exc}). "
                "Worker processes re-import "
                'the calling script: put the screen(...) call under `if __name__ == "__main__":`, or use '
                'scheduler="inline"'
            ) from None
        try:
            with Client(cluster) as client:
                yield client, True
        finally:
            cluster.close()
        return
    address = str(scheduler)
    if not re.match(r"^[a-z]+://", address):
        address = "tcp://" + address
    try:
        client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} ({exc}); start one with "
            "`dask scheduler` and `dask worker ADDRESS`, or drop --scheduler to use a local "
            "cluster"
        ) from None
    try:
        if not client.nthreads():
            log.info("waiting for a worker to join %s", address)
            try:
                client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                raise ClusterError(
                    f"the Dask scheduler at {address} has no workers; start one with `dask worker {address}`"
                ) from None
        yield client, False
    finally:
        client.close()


def model_for_workers(model_obj: Any, client, embedded: bool, n_workers: int) -> Any:
    if isinstance(model_obj, BundledModel):
        if embedded and model_obj.torch_threads is None:
            threads = max(1, (os.cpu_count() or 1) // max(n_workers, 1))
            return dataclasses.replace(model_obj, torch_threads=threads)
        return model_obj
    if hasattr(model_obj, "predict"):  # a loaded Predictor: send it once to every worker
        return client.scatter(model_obj, broadcast=True, hash=False)
    return model_obj
