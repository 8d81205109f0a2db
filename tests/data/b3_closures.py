"""Writes tests/data/b3_closures.csv: B3's closed weekdays as two published lists give them,
for the calendar test (tests/it/calendar.rs). Run once, with the lists' packages from PyPI:

    python3 -m venv /tmp/cal && /tmp/cal/bin/pip install holidays==0.109 exchange_calendars==4.13.2
    /tmp/cal/bin/python tests/data/b3_closures.py > tests/data/b3_closures.csv

- `holidays`: its `financial_holidays("BVMF")` (B3's holidays, from the laws and B3's circulars
  it cites), 1986 to 2035;
- `exchange_calendars`: the weekdays without a session of its "BVMF" calendar, which covers
  2006-12-05 to 2027-12-03 (the window it checks against B3's published sessions).
"""

import datetime as dt
import sys

import exchange_calendars
import holidays
import pandas

out = sys.stdout
out.write("source,date,name\n")
for day, name in sorted(holidays.financial_holidays("BVMF", years=range(1986, 2036)).items()):
    if day.weekday() < 5:
        out.write(f"holidays {holidays.__version__},{day.isoformat()},{name}\n")
calendar = exchange_calendars.get_calendar("BVMF")
first, last = calendar.first_session.date(), calendar.last_session.date()
sessions = {d.date() for d in calendar.sessions}
out.write(f"exchange_calendars {exchange_calendars.__version__},{first.isoformat()},first session\n")
out.write(f"exchange_calendars {exchange_calendars.__version__},{last.isoformat()},last session\n")
for day in pandas.bdate_range(first, last):
    if day.date() not in sessions:
        out.write(f"exchange_calendars {exchange_calendars.__version__},{day.date().isoformat()},closed\n")
