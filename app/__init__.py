"""The lojal workshop app (Streamlit). Start it with `streamlit run app/main.py`."""
