"""Coaching feedback: metrics over stored sessions, tips, reports and progress across sessions.

Entry points: ``metrics.analyse(session) -> Report``; ``report.render_text``, ``report.to_json``,
``report.summary_lines`` and ``report.spoken_feedback``; ``progress.progress_rows``,
``progress.render_table`` and ``progress.progress_svg``. Thresholds live in ``thresholds``.
"""
