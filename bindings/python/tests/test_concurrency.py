"""Many threads and many concurrent awaits at once: results stay right, nothing crashes."""

import asyncio
import threading

import pytest

import hxb

from conftest import NAMESPACE, embedded_or_skip


def test_pure_calls_from_many_threads():
    errors = []
    barrier = threading.Barrier(8)

    def work(i):
        try:
            barrier.wait()
            for _ in range(300):
                assert str(hxb.sum_quantities([f"{i}", "1"])) == str(i + 1)
                with pytest.raises(hxb.InvalidInputError):
                    hxb.validate_name("-bad")
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_many_concurrent_awaits_on_one_engine():
    e = embedded_or_skip()

    async def run():
        await e.apply(NAMESPACE)
        cms = [
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": f"cm-{i}", "namespace": "team-a"}, "data": {"i": str(i)}}
            for i in range(200)
        ]
        await asyncio.gather(*(e.apply(cm) for cm in cms))
        got = await asyncio.gather(*(e.get("ConfigMap", f"cm-{i}", "team-a") for i in range(200)))
        assert [g["data"]["i"] for g in got] == [str(i) for i in range(200)]

    asyncio.run(run())
    e.close()


def test_engine_from_many_threads_each_with_its_loop():
    e = embedded_or_skip()
    asyncio.run(e.apply(NAMESPACE))
    errors = []

    def work(i):
        try:
            got = asyncio.run(e.get("Namespace", "team-a"))
            assert got["metadata"]["name"] == "team-a"
            if i % 2:
                e.close()
        except hxb.ClosedError:
            pass
        except Exception as ex:  # noqa: BLE001 - collected and asserted below
            errors.append(ex)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert e.closed
