"""lojal workshop app: `streamlit run app/main.py`. Declares the pages; each page is a file in screens/ (not pages/: a pages/ folder next to main.py makes AppTest run the page without main.py)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts app/ on the path, not the project
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit import config  # noqa: E402

from app import runs, settings, shell  # noqa: E402

settings.configure_logging()
# The design's widgets are given their value both ways on purpose (schema_form._seed says why);
# the option is not settable with st.set_option.
config.set_option("global.disableWidgetStateDuplicationWarning", True, "app/main.py")

st.set_page_config(page_title="lojal – loyalty program simulator", page_icon=":material/loyalty:", layout="wide")

HERE = Path(__file__).parent
results = st.Page(HERE / "screens/results.py", title="Results", icon=":material/insights:", default=True)
pages = [
    results,
    st.Page(HERE / "screens/design.py", title="Design", icon=":material/tune:"),
    st.Page(HERE / "screens/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page(HERE / "screens/budget.py", title="Budget", icon=":material/savings:"),
    st.Page(HERE / "screens/calibrate.py", title="Calibrate", icon=":material/query_stats:"),
    st.Page(HERE / "screens/library.py", title="Scenario library", icon=":material/folder_open:"),
    st.Page(HERE / "screens/export.py", title="Export", icon=":material/download:"),
]
page = st.navigation(pages)
runs.warm_up()
shell.frame(results, page)
shell.run_page(page)
