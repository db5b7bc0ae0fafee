"""AMICI's side of Scripts/bench-fit: run by the Python of .build-bench/amici-venv, one process per
PEtab problem, driven by JSON lines on stdin, answering JSON lines on stdout (log lines go to stderr).

    {"cmd": "load", "yaml": ..., "out": DIR, "rtol": .., "atol": ..}
        imports the problem with amici (petab v1 import), compiles it into DIR once (DIR/.complete
        marks a finished compile; later loads import the module from there), builds the ExpDatas and
        the parameter mapping, fills in the nominal parameters, and answers the NLL and its gradient
        (untimed) plus the time of a full simulate_petab call. Nothing of this is timed in batches.
    {"cmd": "batch", "n": N}
        N timed NLL evaluations (sensitivity order none) and N timed gradient evaluations (forward
        sensitivities, order first), alternating, on one thread: each is one run_simulations over
        every ExpData (every condition, preequilibration included; llh and sllh computed by AMICI's
        C++). Answers the lists of wall times in ms.
    {"cmd": "quit"}

Any failure is answered as {"ok": false, "error": "..."} instead of a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
import traceback
from pathlib import Path


# Replies go to a private copy of the original stdout; fd 1 itself becomes stderr, so that whatever
# the compilers and AMICI print cannot mix into the replies.
_REPLIES = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)


def reply(obj):
    _REPLIES.write(json.dumps(obj) + "\n")
    _REPLIES.flush()


class Problem:
    def load(self, yaml: str, out: str, rtol: float, atol: float):
        import amici
        import amici.sim.sundials as S
        import petab.v1 as petab
        from amici.importers.petab.v1 import import_petab_problem
        from amici.sim.sundials.petab.v1 import _simulations as sims

        self.S, self.sims = S, sims
        for name in list(logging.Logger.manager.loggerDict):
            if name.split(".")[0] in ("amici", "petab"):
                logging.getLogger(name).setLevel(logging.WARNING)
        problem = petab.Problem.from_yaml(yaml)
        out = Path(out)
        name = "bench_" + "".join(c if c.isalnum() else "_" for c in Path(yaml).stem)
        compile_s = None
        if not (out / ".complete").exists():
            shutil.rmtree(out, ignore_errors=True)     # an interrupted compile
            print(f"  AMICI: compiling {Path(yaml).stem} into {out} (once) ...", file=sys.stderr, flush=True)
            t0 = time.time()
            model = import_petab_problem(problem, output_dir=out, model_name=name, compile_=True, verbose=False)
            compile_s = time.time() - t0
            (out / ".complete").write_text(f"{compile_s:.0f} s\n")
        else:
            model = import_petab_problem(problem, output_dir=out, model_name=name, compile_=False)
        solver = model.create_solver()
        solver.set_relative_tolerance(rtol)
        solver.set_absolute_tolerance(atol)
        solver.set_max_steps(1_000_000)
        solver.set_sensitivity_method(S.SensitivityMethod.forward)

        conditions = problem.get_simulation_conditions_from_measurement_df()
        mapping = sims.create_parameter_mapping(problem, conditions, scaled_parameters=True, amici_model=model)
        edatas = sims.create_edatas(model, problem, conditions)
        free = mapping.free_symbols
        nominal = {k: v for k, v in zip(problem.x_ids, problem.get_x_nominal(scaled=True)) if k in free}
        sims.fill_in_parameters(edatas, problem_parameters=nominal, scaled_parameters=True,
                                parameter_mapping=mapping, amici_model=model)
        self.problem, self.model, self.solver, self.edatas, self.mapping = problem, model, solver, edatas, mapping

        # Untimed: the values, through AMICI's own aggregation to the PEtab parameters (their scales);
        # AMICI gives llh and its gradient sllh, the NLL is −llh.
        nll, _ = self.evaluate(False)
        nll_g, rdatas = self.evaluate(True)
        sllh = sims.aggregate_sllh(amici_model=model, rdatas=rdatas, parameter_mapping=mapping,
                                   edatas=edatas, petab_scale=True, petab_problem=problem)
        # For the notes: a whole simulate_petab call (Python parameter mapping and aggregation
        # included), gradient on the parameter scale.
        full = []
        for _ in range(3):
            t0 = time.perf_counter_ns()
            r = sims.simulate_petab(problem, amici_model=model, solver=solver, edatas=edatas,
                                    parameter_mapping=mapping, problem_parameters=nominal,
                                    scaled_parameters=True, scaled_gradients=True, num_threads=1)
            full.append((time.perf_counter_ns() - t0) / 1e6)
        full_nll = -r[sims.LLH]
        steps = [int(rd.numsteps[-1]) if len(rd.numsteps) else 0 for rd in rdatas]
        return dict(ok=True, amici=amici.__version__, compile_s=compile_s, nll=nll, nll_gradient_run=nll_g,
                    simulate_petab_nll=full_nll, simulate_petab_gradient_ms=sorted(full)[1],
                    gradient={k: -float(v) for k, v in (sllh or {}).items()},   # of the NLL = −llh
                    simulations=len(edatas), steps=sum(steps),
                    parameters=len(sllh or {}))

    def evaluate(self, gradient: bool):
        S = self.S
        self.solver.set_sensitivity_order(S.SensitivityOrder.first if gradient else S.SensitivityOrder.none)
        rdatas = S.run_simulations(self.model, self.solver, self.edatas, num_threads=1, failfast=True)
        bad = [rd.status for rd in rdatas if rd.status != 0]
        if bad:
            raise RuntimeError(f"AMICI status {bad[0]} in {len(bad)} of {len(rdatas)} simulations")
        return -sum(rd.llh for rd in rdatas), rdatas

    def batch(self, n: int):
        nll_ms, grad_ms = [], []
        clock = time.perf_counter_ns
        for _ in range(n):
            t0 = clock()
            self.evaluate(False)
            nll_ms.append((clock() - t0) / 1e6)
            t0 = clock()
            self.evaluate(True)
            grad_ms.append((clock() - t0) / 1e6)
        return dict(ok=True, nll_ms=nll_ms, gradient_ms=grad_ms)


def main():
    p = Problem()
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        try:
            if msg["cmd"] == "quit":
                return
            if msg["cmd"] == "load":
                reply(p.load(msg["yaml"], msg["out"], msg["rtol"], msg["atol"]))
            elif msg["cmd"] == "batch":
                reply(p.batch(int(msg["n"])))
            else:
                reply(dict(ok=False, error=f"unknown command {msg['cmd']!r}"))
        except Exception as e:  # noqa: BLE001 - reported in the table
            traceback.print_exc(file=sys.stderr)
            reply(dict(ok=False, error=f"{e.__class__.__name__}: {str(e)[:300]}"))


if __name__ == "__main__":
    main()
