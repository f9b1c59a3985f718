"""The chat channel server: customer endpoint, AI agent, escalation worker, agents' bridge."""
