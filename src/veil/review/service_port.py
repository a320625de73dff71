"""The review app's one door into the job service: everything of :mod:`veil.service` it uses.

The review app is a client of the service: it reviews finished jobs, keeps
each review beside the job's outputs, and starts redactions as new jobs, as
the caller whose token came with the request. It reaches the service only
through the names below (``tests/test_layers.py`` holds that no other review
module imports the service), so what review depends on stays in sight and a
change behind these names does not reach into the review app: who asks (the
caller, and the API's dependencies that say so), the jobs reviewed and the
redactions submitted from a review, a job's input and output files and how
they are served, the policy a review is checked against, and the key that
signs its links.
"""

from veil.service.access import Caller
from veil.service.api.deps import CallerDep, SettingsDep, StoreDep
from veil.service.api.files import content_disposition, output_response
from veil.service.jobs import downloaded
from veil.service.outputs import job_outputs, read_output
from veil.service.policy import Policy, hides_at_least
from veil.service.schemas import JobCreate, JobPublic
from veil.service.secrets import key_file
from veil.service.settings import ServiceSettings
from veil.service.store import Conflict, Job, JobState, Store
from veil.service.submit import submit_request
from veil.service.uploads import input_path, save_upload

__all__ = [
    "Caller",
    "CallerDep",
    "Conflict",
    "Job",
    "JobCreate",
    "JobPublic",
    "JobState",
    "Policy",
    "ServiceSettings",
    "SettingsDep",
    "Store",
    "StoreDep",
    "content_disposition",
    "downloaded",
    "hides_at_least",
    "input_path",
    "job_outputs",
    "key_file",
    "output_response",
    "read_output",
    "save_upload",
    "submit_request",
]
