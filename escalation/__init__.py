"""escalation"""
