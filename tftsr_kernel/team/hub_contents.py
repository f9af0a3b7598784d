"""The contents manager of a viewer's server under JupyterHub: files can be listed and read,
never written, renamed or deleted (a notebook a viewer wrote would run when Voila renders it).

Loaded by jupyter-server in the user's server (``--ServerApp.contents_manager_class``); imports
nothing of the workbench."""

from __future__ import annotations

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError

_REFUSAL = "viewers may read files here but not write, rename or delete them (this needs the analyst role)"


class ReadOnlyContentsManager(AsyncLargeFileManager):
    async def save(self, model, path=""):
        raise HTTPError(403, _REFUSAL)

    async def delete_file(self, path):
        raise HTTPError(403, _REFUSAL)

    async def rename_file(self, old_path, new_path):
        raise HTTPError(403, _REFUSAL)

    async def new(self, model=None, path=""):
        raise HTTPError(403, _REFUSAL)

    async def new_untitled(self, path="", type="", ext=""):
        raise HTTPError(403, _REFUSAL)

    async def copy(self, from_path, to_path=None):
        raise HTTPError(403, _REFUSAL)

    async def create_checkpoint(self, path):
        raise HTTPError(403, _REFUSAL)
