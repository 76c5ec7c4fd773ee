"""WebSub (W3C Recommendation, 2018) subscriber: hubs push new entries instead of waiting for a poll."""
