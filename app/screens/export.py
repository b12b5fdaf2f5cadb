"""Export: the last run's results as an HTML report, Excel and CSV, and its scenario as YAML."""

from functools import partial

import streamlit as st

from app import budget, library, runs, state
from simulation import export, provenance, report

ws = state.workspace()
st.title("Export")

last = state.last_run()
results = runs.cached(last) if last is not None else None
if results is None:
    st.info("Nothing to export yet: press **Run** in the sidebar first.")
    st.stop()

name = state.name_of_run(results.scenario)
stem = library.slugify(name)
st.caption(f"Results of **{name}** ({results.scenario.simulation.replications} replications).")
# the scenario file of this run is the YAML offered below: the provenance records its hash
scenario_file = export.scenario_yaml(results, original=ws.source)
prov = provenance.of_run(results, f"{stem}.yaml", scenario_file)
files = [
    ("Report (HTML)", "export.report", lambda r: report.html([(r, prov)]).encode("utf-8"), f"{stem}-report.html",
     "text/html", "One file that opens offline in any browser: the design in plain words, the assumptions and "
     "their ranges, headline results with intervals, the charts and the provenance."),
    ("Summary (CSV)", "export.summary_csv", export.summary_csv, f"{stem}-summary.csv", "text/csv",
     "One row per metric and arm: mean, 5 % and 95 %."),
    ("Monthly results (CSV)", "export.monthly_csv", export.monthly_csv, f"{stem}-monthly.csv", "text/csv",
     "One row per month, metric and arm: mean, 5 % and 95 %."),
    ("Workbook (Excel)", "export.excel", partial(export.excel_bytes, prov=prov), f"{stem}-results.xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     "About (with the provenance), summary, monthly (tidy and one sheet per arm), replications, flows, CLV, "
     "cohorts and the scenario."),
    ("Scenario (YAML)", "export.yaml", lambda r: scenario_file, f"{stem}.yaml", "application/x-yaml",
     "The scenario of this run, to open again or to run with the command line."),
]  # fmt: skip
swept = budget.kept(results.scenario)  # a sweep of the Budget page, kept with this scenario
if swept is not None:
    files.append(("Budget sweep (CSV)", "export.sweep", lambda r: swept.csv(), f"{stem}-sweep.csv", "text/csv",
                  "One row per design of the Budget page's sweep: the levers, every metric's mean, 5 % and 95 %."))  # fmt: skip
for label, key, build, file_name, mime, help_text in files:
    left, right = st.columns([1.4, 3])
    left.download_button(
        label, partial(build, results), file_name=file_name, mime=mime, key=key, width="stretch", wrap=True
    )
    right.caption(help_text)

st.subheader("Summary")
st.caption(
    "Mean over replications; the interval is the 5-95 % range of the difference. The CSV files hold every figure unrounded."
)
st.dataframe(report.summary_display(results), hide_index=True, width="stretch", key="export.summary")

with st.expander("Provenance", expanded=False):
    st.caption(f"`{prov.rerun()}` reproduces these numbers from the scenario file above.")
    st.dataframe({"Item": [k for k, _ in prov.rows()], "Value": [str(v) for _, v in prov.rows()]}, hide_index=True)
