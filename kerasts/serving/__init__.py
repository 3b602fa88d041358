"""The campaign: a solution version served live, its events durable (Amazon Personalize's campaign and
event tracker). `Campaign` runs in process; `kerasts.serving.server` puts it behind HTTP (`kerasts[serve]`).

```python
campaign = kerasts.serving.Campaign(kerasts.personalize.load_solution_version("solution/"), "events.db")
tracking_id = campaign.create_event_tracker()
campaign.put_events(tracking_id, "u1", "s1", [{"eventType": "click", "itemId": "42", "sentAt": 1.7e9}])
campaign.get_recommendations(user_id="u1")
```
"""

from kerasts.serving.batching import RequestBatcher
from kerasts.serving.campaign import Campaign, with_stored_data
from kerasts.serving.event_store import EventStore, SQLiteEventStore, open_event_store, register_event_store

__all__ = ["Campaign", "RequestBatcher", "EventStore", "SQLiteEventStore", "open_event_store", "register_event_store",
           "with_stored_data"]
