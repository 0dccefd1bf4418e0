"""journeymap's Python API, for notebooks and scripts (docs/python-api.md)::

    import journeymap as jm
    ws = jm.open_workspace("demo-workspace")
    ws.maps()                                   # a DataFrame of the maps
    a = ws.analyze("sme-onboarding-churn", segment="plan == 'pro'")
    a.stages                                    # the stage funnel, a DataFrame
    a.pain_points.head()                        # pain points with their evidence
    a.sankey()                                  # the chart, inline
    ws.map("sme-onboarding-churn")              # the map page, inline

Every method takes the options of the command it stands for, by the same names.
"""

from journeymap.api.analysis import Analysis
from journeymap.api.display import Chart, MapPage
from journeymap.api.workspace import Clv, Map, Workspace, demo, open_workspace

__all__ = ["Analysis", "Chart", "Clv", "Map", "MapPage", "Workspace", "demo", "open_workspace"]
