"""The Space's browse tab: filters, one page of rows at a time, and the view of the open row.

The table holds one page (`PAGE_SIZE` rows): gr.Dataframe has no server-side paging and sends its
whole value to the browser, so the page number lives in a gr.State and previous/next ask
`CodeOceanView.query` for another page. Every value from the dataset reaches the browser as text:
plain Dataframe cells and Textboxes escape, gr.Code shows text as text, and gr.Markdown gets only
the escaped `*_md` fields of `space.rows.RowView` (never `datatype="html"`, whose cells run script).

    tab = BrowseTab(view)           # inside a gr.Blocks
    demo.load(tab.on_load, None, tab.load_outputs)
"""

from __future__ import annotations

import html
import os
from typing import Any

import gradio as gr
import pyarrow.compute as pc

from space.data import TABLE_COLUMNS, CodeOceanView
from space.rows import JUDGEMENT_HEADERS, escape_markdown, markdown_link, row_view, share_url
from wavecoder.errors import UserError

PAGE_SIZE = 20  # rows per page of the table
ALL = ""  # a filter's "no filter" value
MAX_SEARCH_CHARS = 200
# Browsing runs in its own concurrency group, never queued behind a reply being generated.
BROWSE_GROUP, BROWSE_CONCURRENCY = "browse", 8
NO_FILTERS = ("default", ALL, ALL, ALL, "")  # config, task, language, failed rule, search
# Row fields the try-the-model tab starts its one-click prompts from (kept in a gr.State).
PROMPT_FIELDS = ("id", "task", "language", "instruction", "input", "output", "source_code")
CONFIG_LABELS = {
    "default": "accepted (default)",
    "rejected": "rejected by the post-filter or the judge",
    "failed": "failed (no usable generation)",
}


class BrowseTab:
    """The browse tab's components and callbacks over one `CodeOceanView`; build it inside a
    `gr.Blocks` (it wires its own events) and call `on_load` from `demo.load`."""

    def __init__(self, view: CodeOceanView):
        self.view = view
        facets = view.facets()
        with gr.Row():
            self.config = gr.Dropdown(
                [(CONFIG_LABELS.get(c, c), c) for c in view.configs],
                value="default",
                label="Configuration (outcome)",
                elem_id="filter-config",
            )
            self.task = gr.Dropdown(
                _choices(facets["task"]), value=ALL, label="Task", elem_id="filter-task"
            )
            self.language = gr.Dropdown(
                _choices(facets["language"]), value=ALL, label="Language", elem_id="filter-language"
            )
            self.rule = gr.Dropdown(
                _choices(facets["failed_rule"]),
                value=ALL,
                label="Failed rule",
                elem_id="filter-rule",
            )
        with gr.Row():
            self.search = gr.Textbox(
                label="Search instruction, input, output and source code",
                placeholder="a word or phrase (case-insensitive); Enter to search",
                max_length=MAX_SEARCH_CHARS,
                scale=4,
                elem_id="search-box",
            )
            search_button = gr.Button("Search", scale=1)
        self.table = gr.Dataframe(
            headers=list(TABLE_COLUMNS), datatype="str", interactive=False, wrap=True,
            label="Rows (click one to open it)", elem_id="rows-table", max_height=720,
        )  # fmt: skip
        with gr.Row():
            previous = gr.Button("◀ Previous", size="sm", elem_id="previous-page")
            self.status = gr.Markdown(elem_id="page-status")
            following = gr.Button("Next ▶", size="sm", elem_id="next-page")
        self.page = gr.State(0)
        # The filters of the page shown (config, task, language, rule, search): previous/next
        # page through these, not through whatever is typed in the boxes but not yet applied.
        self.applied = gr.State(NO_FILTERS)
        self.open_row = gr.State(None)
        self._build_row_view()

        filters = [self.config, self.task, self.language, self.rule, self.search]
        page_outputs = [self.table, self.status, self.applied, self.page]
        browse = {"concurrency_id": BROWSE_GROUP, "concurrency_limit": BROWSE_CONCURRENCY}
        self.config.change(
            self.on_config, [self.config], [self.task, self.language, self.rule], **browse
        ).then(self.first_page, filters, page_outputs, **browse)
        for component in (self.task, self.language, self.rule):
            component.input(self.first_page, filters, page_outputs, **browse)
        self.search.submit(self.first_page, filters, page_outputs, **browse)
        search_button.click(self.first_page, filters, page_outputs, **browse)
        previous.click(self.previous_page, [self.applied, self.page], page_outputs, **browse)
        following.click(self.next_page, [self.applied, self.page], page_outputs, **browse)
        self.table.select(self.on_select, [self.applied], self.row_outputs, **browse)
        self.load_outputs = page_outputs + self.row_outputs

    def _build_row_view(self) -> None:
        with gr.Column(visible=False, elem_id="row-view") as self.row_box:
            self.header = gr.Markdown(elem_id="row-header")
            self.share = gr.Markdown(elem_id="row-share")
            self.instruction = gr.Textbox(label="Instruction", lines=2, interactive=False,
                                          elem_id="row-instruction")  # fmt: skip
            with gr.Row():
                self.input = gr.Code(label="Input", interactive=False, elem_id="row-input")
                self.output = gr.Code(label="Output", interactive=False, elem_id="row-output")
            self.source = gr.Code(label="Source function", interactive=False, elem_id="row-source")
            with gr.Row():
                self.provenance = gr.Markdown(label="Provenance", elem_id="row-provenance")
                self.selection = gr.Markdown(elem_id="row-selection")
                self.usage = gr.Markdown(elem_id="row-usage")
            self.verdict = gr.Markdown(elem_id="row-verdict")
            self.judgement = gr.Dataframe(headers=JUDGEMENT_HEADERS, interactive=False, wrap=True,
                                          label="Judgement per rule", elem_id="row-judgement")  # fmt: skip
            self.outcome = gr.Markdown(elem_id="row-outcome")
            with gr.Accordion("Raw model replies", open=False, visible=False) as self.raw_box:
                self.raw_generation = gr.Textbox(label="Generator", lines=4, interactive=False)
                self.raw_judgement = gr.Textbox(label="Discriminator", lines=4, interactive=False)
            self.extras = gr.JSON(label="More columns", visible=False, elem_id="row-extras")
        self.row_outputs = [
            self.row_box, self.header, self.share, self.instruction, self.input, self.output,
            self.source, self.provenance, self.selection, self.usage, self.verdict,
            self.judgement, self.outcome, self.raw_box, self.raw_generation, self.raw_judgement,
            self.extras, self.open_row,
        ]  # fmt: skip

    # -- the table -------------------------------------------------------------------------

    def on_config(self, config: str) -> tuple[gr.Dropdown, gr.Dropdown, gr.Dropdown]:
        """Each filter's choices in `config`, reset to no filter."""
        facets = self.view.facets(config)
        return tuple(
            gr.Dropdown(choices=_choices(facets[name]), value=ALL)
            for name in ("task", "language", "failed_rule")
        )

    def show_page(self, config, task, language, rule, search, page: int) -> tuple:
        """(table rows, "page X of Y (N rows)", the filters applied, the page number)."""
        search = (search or "")[:MAX_SEARCH_CHARS]
        found = self.view.query(
            config=config or "default", task=task or None, language=language or None,
            failed_rule=rule or None, search=search, page=page,
            page_size=PAGE_SIZE,
        )  # fmt: skip
        rows = [[_cell(row[c]) for c in TABLE_COLUMNS] for row in found.rows]
        status = f"page {found.page + 1} of {found.pages} ({found.total} rows)"
        applied = (config or "default", task or ALL, language or ALL, rule or ALL, search)
        return rows, status, applied, found.page

    def first_page(self, *filters) -> tuple:
        return _shown(self.show_page, *filters, 0)

    def previous_page(self, applied: tuple, page: int) -> tuple:
        return _shown(self.show_page, *(applied or NO_FILTERS), max(0, int(page) - 1))

    def next_page(self, applied: tuple, page: int) -> tuple:
        return _shown(self.show_page, *(applied or NO_FILTERS), int(page) + 1)

    # -- one row ---------------------------------------------------------------------------

    def on_select(self, applied: tuple, event: gr.SelectData, request: gr.Request):
        """The clicked row, by the id in its first cell (the table may be sorted in the browser,
        so its position says nothing), from the config of the page shown."""
        row = event.row_value or []
        row_id = str(row[0]) if row and row[0] not in (None, "") else None
        config = (applied or NO_FILTERS)[0]
        return self.row_values(row_id, config, _base_url(request) if row_id else "")

    def on_load(self, request: gr.Request) -> tuple:
        """The first page, and the row `?row=<id>` names when the page URL has one."""
        page = self.first_page(*NO_FILTERS)
        row_id = dict(request.query_params).get("row") if request else None
        return (*page, *self.row_values(row_id, None, _base_url(request)))

    def row_values(self, row_id: str | None, config: str | None, base_url: str) -> tuple:
        """The values of `row_outputs` for row `row_id` (None: the row view hidden)."""
        if not row_id:
            return (gr.Column(visible=False), *[gr.skip()] * (len(self.row_outputs) - 2), None)
        row = self.view.row(row_id, config or None) or self.view.row(row_id)
        if row is None:
            missing = f"No row with id {escape_markdown(row_id)} in this dataset."
            return _blank_row(missing)
        row.update(self.selection_of(row_id))
        view = row_view(row)
        link = share_url(base_url, view.id) if base_url else f"?row={view.id}"
        raw = bool(view.raw_generation or view.raw_judgement)
        verdict = f"**Overall verdict:** {view.overall_verdict}" if view.overall_verdict else ""
        return (
            gr.Column(visible=True), view.header_md,
            f"**Link to this row:** {markdown_link(link)}", view.instruction,
            gr.Code(value=view.input, language=view.input_language, visible=bool(view.input)),
            gr.Code(value=view.output, language=view.output_language),
            gr.Code(value=view.source_code, language=view.source_language),
            "**Provenance**\n\n" + view.provenance_md, view.selection_md,
            "**Tokens used**\n\n" + view.usage_md, verdict, view.judgement_rows, view.outcome_md,
            gr.Accordion(visible=raw), view.raw_generation, view.raw_judgement,
            gr.JSON(value=view.extras or None, visible=bool(view.extras)),
            {field: row.get(field) for field in PROMPT_FIELDS},
        )  # fmt: skip

    def selection_of(self, row_id: str) -> dict[str, Any]:
        """The row's KCenterGreedy rank and coverage radius from selection.parquet ({} without)."""
        selection = self.view.selection
        if selection is None or "id" not in selection.column_names:
            return {}
        index = pc.index(selection.column("id"), row_id).as_py()
        if index < 0:
            return {}
        columns = [c for c in ("selection_rank", "coverage_radius") if c in selection.column_names]
        return {c: selection.column(c)[index].as_py() for c in columns}


def _choices(counts: list[tuple[str, int]]) -> list[tuple[str, str]]:
    return [("all", ALL)] + [(f"{value} ({count})", value) for value, count in counts]


def _blank_row(message_md: str) -> tuple:
    """The row view showing only `message_md` (every field emptied, no open row)."""
    code = gr.Code(value="", language=None)
    return (
        gr.Column(visible=True), message_md, "", "", code, code, code, "", "", "", "", [], "",
        gr.Accordion(visible=False), "", "", gr.JSON(value=None, visible=False), None,
    )  # fmt: skip


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def visitor_error(exc: Exception) -> gr.Error:
    """`exc`'s message as a gr.Error, escaped: gradio renders an error's message as HTML."""
    return gr.Error(html.escape(str(exc)))


def _shown(show_page, *args) -> tuple:
    """`show_page(*args)`, its UserError (e.g. a config that is not there) as a gr.Error."""
    try:
        return show_page(*args)
    except UserError as exc:
        raise visitor_error(exc) from exc


def _base_url(request: gr.Request) -> str:
    """The page to link to: the Space's own host on a Space, else the page the visitor sees (the
    Referer, without its query), else the server's URL. `share_url` keeps only `row`."""
    if os.environ.get("SPACE_HOST"):
        return f"https://{os.environ['SPACE_HOST']}/"
    if request is None:
        return ""
    headers = {k.lower(): v for k, v in dict(request.headers).items()}
    if headers.get("referer", "").startswith(("http://", "https://")):
        return headers["referer"].split("?", 1)[0].split("#", 1)[0]
    host = headers.get("host")
    return f"http://{host}/" if host else ""
