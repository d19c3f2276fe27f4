"""gRPC servicer: each RPC hands the request to its use case; the interceptor maps domain errors."""

from __future__ import annotations

from importlib.metadata import version

import grpc
from school.identity.v1 import identity_pb2 as pb
from school.identity.v1 import identity_pb2_grpc as pb_grpc

from identity.access.service import AccessService, tenant_principal
from identity.audit.service import AuditService
from identity.consents.service import ConsentService
from identity.devices.service import DeviceClientService
from identity.links.service import LinkService
from identity.people.api import PersonApi
from identity.staff.service import StaffService
from identity.tenants.service import TenantService

CAPABILITIES: list[str] = [
    "tenant-provisioning",
    "scoped-access",
    "staff-import",
    "citizen-id-verification",
    "vneid-federation",
    "guardian-linking",
    "consent",
    "audit",
    "device-clients",
]


class IdentityServicer(pb_grpc.IdentityServiceServicer):
    def __init__(
        self,
        tenants: TenantService,
        accounts: AccessService,
        staff: StaffService,
        people: PersonApi,
        links: LinkService,
        consents: ConsentService,
        audit: AuditService,
        devices: DeviceClientService,
    ) -> None:
        self.tenants = tenants
        self.accounts = accounts
        self.staff = staff
        self.people = people
        self.links = links
        self.consents = consents
        self.audit = audit
        self.devices = devices

    async def GetServiceInfo(
        self, request: pb.GetServiceInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetServiceInfoResponse:
        return pb.GetServiceInfoResponse(
            name="identity", version=version("school-identity"), capabilities=CAPABILITIES
        )

    async def CreateTenant(
        self, request: pb.CreateTenantRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateTenantResponse:
        return await self.tenants.create(request)

    async def GetTenant(
        self, request: pb.GetTenantRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTenantResponse:
        return await self.tenants.get(request)

    async def GetMe(self, request: pb.GetMeRequest, context: grpc.aio.ServicerContext) -> pb.GetMeResponse:
        return await self.accounts.me()

    async def GetAccessScope(
        self, request: pb.GetAccessScopeRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAccessScopeResponse:
        principal = tenant_principal()
        return await self.accounts.scope(principal)

    async def ImportStaff(
        self, request: pb.ImportStaffRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportStaffResponse:
        return await self.staff.import_staff(request)

    async def ListStaff(
        self, request: pb.ListStaffRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListStaffResponse:
        return await self.staff.list_staff(request)

    async def RegisterPerson(
        self, request: pb.RegisterPersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterPersonResponse:
        return await self.people.register(request)

    async def VerifyCitizen(
        self, request: pb.VerifyCitizenRequest, context: grpc.aio.ServicerContext
    ) -> pb.VerifyCitizenResponse:
        return await self.people.verify(request)

    async def CreateLinkRequest(
        self, request: pb.CreateLinkRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateLinkRequestResponse:
        return await self.links.create(request)

    async def ListLinkRequests(
        self, request: pb.ListLinkRequestsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListLinkRequestsResponse:
        return await self.links.list(request)

    async def DecideLinkRequest(
        self, request: pb.DecideLinkRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.DecideLinkRequestResponse:
        return await self.links.decide(request)

    async def ListPurposes(
        self, request: pb.ListPurposesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPurposesResponse:
        return await self.consents.purposes()

    async def ListConsents(
        self, request: pb.ListConsentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListConsentsResponse:
        return await self.consents.list(request)

    async def GrantConsent(
        self, request: pb.GrantConsentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GrantConsentResponse:
        return await self.consents.grant(request)

    async def WithdrawConsent(
        self, request: pb.WithdrawConsentRequest, context: grpc.aio.ServicerContext
    ) -> pb.WithdrawConsentResponse:
        return await self.consents.withdraw(request)

    async def ListAuditEvents(
        self, request: pb.ListAuditEventsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAuditEventsResponse:
        return await self.audit.list(request)

    async def CreateDeviceClient(
        self, request: pb.CreateDeviceClientRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateDeviceClientResponse:
        return await self.devices.create(request)

    async def DisableDeviceClient(
        self, request: pb.DisableDeviceClientRequest, context: grpc.aio.ServicerContext
    ) -> pb.DisableDeviceClientResponse:
        return await self.devices.disable(request)
