# The LAVA database objects tests/lava/lava-server-up needs, made idempotent in
# one process: `lava-server manage shell --command "$(cat lava-objects.py)"`
# (each `lava-server manage` command costs a Django start-up, 3-6 s here).
# The same steps as `lava-server manage users add --superuser`, `tokens add
# --secret`, `workers add`, `device-types add`, `devices add`, `devices update
# --health GOOD`, with the names from the environment.  Prints the worker's token.
import os

from django.db.models import Q

from django.contrib.auth.models import User
from linaro_django_xmlrpc.models import AuthToken
from lava_scheduler_app.models import Device, DeviceType, TestJob, Worker

env = os.environ
user, created = User.objects.get_or_create(username=env["LAVA_USER"],
                                           defaults={"email": env["LAVA_USER"] + "@localhost"})
if created:
    user.set_unusable_password()     # the API token is the only way in
user.is_staff = user.is_superuser = True
user.save()
AuthToken.objects.get_or_create(user=user, secret=env["LAVA_TOKEN"],
                                defaults={"description": "proofboot"})
worker, _ = Worker.objects.get_or_create(hostname=env["LAVA_WORKER"],
                                         defaults={"description": "proofboot local worker"})
if worker.health != Worker.HEALTH_ACTIVE:
    worker.health = Worker.HEALTH_ACTIVE
    worker.save()
device_type, _ = DeviceType.objects.get_or_create(name="qemu")
for hostname in env["LAVA_DEVICES"].split():
    device, _ = Device.objects.get_or_create(
        hostname=hostname, defaults={"device_type": device_type, "worker_host": worker,
                                     "state": Device.STATE_IDLE, "health": Device.HEALTH_GOOD})
    if (device.device_type, device.worker_host, device.health) != (device_type, worker,
                                                                   Device.HEALTH_GOOD):
        device.device_type, device.worker_host = device_type, worker
        device.health = Device.HEALTH_GOOD
        device.save()
# With our worker not running, a job still queued or running on our devices is
# the leftover of an interrupted run (a killed check, a stopped session): it
# would hold the device "Running" forever.  End it as Canceled and free the
# device, so a new run never waits on a job nobody will finish.
if env.get("LAVA_RESET_STALE") == "1":
    stale = TestJob.objects.filter(~Q(state=TestJob.STATE_FINISHED),
                                   requested_device_type=device_type)
    for job in stale:
        job.state, job.health = TestJob.STATE_FINISHED, TestJob.HEALTH_CANCELED
        job.save()
        print("canceled-stale-job:", job.id)
    for hostname in env["LAVA_DEVICES"].split():
        device = Device.objects.get(hostname=hostname)
        if device.state != Device.STATE_IDLE:
            device.state = Device.STATE_IDLE
            device.save()
print("worker-token:", worker.token)
