"""gRPC servicer for attendance: each RPC goes to the use case that owns it."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from school.attendance.v1 import attendance_pb2 as pb
from school.attendance.v1 import attendance_pb2_grpc as pb_grpc

from attendance.boarding.service import BoardingService
from attendance.calendar.service import CalendarService
from attendance.gate.service import GateService
from attendance.leave.service import LeaveService
from attendance.registers.service import RegisterService
from attendance.rosters.service import RosterService


@dataclass(frozen=True)
class UseCases:
    rosters: RosterService
    calendars: CalendarService
    registers: RegisterService
    leave: LeaveService
    gate: GateService
    boarding: BoardingService


class AttendanceServicer(pb_grpc.AttendanceServiceServicer):
    def __init__(self, use_cases: UseCases) -> None:
        self.u = use_cases

    async def GetClassRoster(
        self, request: pb.GetClassRosterRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetClassRosterResponse:
        return await self.u.rosters.get_class_roster(request)

    async def GetSchoolCalendar(
        self, request: pb.GetSchoolCalendarRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSchoolCalendarResponse:
        return await self.u.calendars.get(request)

    async def ConfigureSchoolCalendar(
        self, request: pb.ConfigureSchoolCalendarRequest, context: grpc.aio.ServicerContext
    ) -> pb.ConfigureSchoolCalendarResponse:
        return await self.u.calendars.configure(request)

    async def MarkAttendance(
        self, request: pb.MarkAttendanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkAttendanceResponse:
        return await self.u.registers.mark(request)

    async def GetRegister(
        self, request: pb.GetRegisterRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetRegisterResponse:
        return await self.u.registers.get_register(request)

    async def ListRegisterChanges(
        self, request: pb.ListRegisterChangesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRegisterChangesResponse:
        return await self.u.registers.list_changes(request)

    async def ListStudentAttendance(
        self, request: pb.ListStudentAttendanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListStudentAttendanceResponse:
        return await self.u.registers.list_student_attendance(request)

    async def GetAbsenceSummary(
        self, request: pb.GetAbsenceSummaryRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAbsenceSummaryResponse:
        return await self.u.registers.absence_summary(request)

    async def ListClassAbsenceSummaries(
        self, request: pb.ListClassAbsenceSummariesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListClassAbsenceSummariesResponse:
        return await self.u.registers.class_absence_summaries(request)

    async def RequestLeave(
        self, request: pb.RequestLeaveRequest, context: grpc.aio.ServicerContext
    ) -> pb.RequestLeaveResponse:
        return await self.u.leave.request(request)

    async def DecideLeave(
        self, request: pb.DecideLeaveRequest, context: grpc.aio.ServicerContext
    ) -> pb.DecideLeaveResponse:
        return await self.u.leave.decide(request)

    async def CancelLeave(
        self, request: pb.CancelLeaveRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelLeaveResponse:
        return await self.u.leave.cancel(request)

    async def ListLeaveRequests(
        self, request: pb.ListLeaveRequestsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListLeaveRequestsResponse:
        return await self.u.leave.list(request)

    async def RegisterGateDevice(
        self, request: pb.RegisterGateDeviceRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterGateDeviceResponse:
        return await self.u.gate.register_device(request)

    async def ListGateDevices(
        self, request: pb.ListGateDevicesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListGateDevicesResponse:
        return await self.u.gate.list_devices(request)

    async def DisableGateDevice(
        self, request: pb.DisableGateDeviceRequest, context: grpc.aio.ServicerContext
    ) -> pb.DisableGateDeviceResponse:
        return await self.u.gate.disable_device(request)

    async def AssignGateCredential(
        self, request: pb.AssignGateCredentialRequest, context: grpc.aio.ServicerContext
    ) -> pb.AssignGateCredentialResponse:
        return await self.u.gate.assign_credential(request)

    async def RemoveGateCredential(
        self, request: pb.RemoveGateCredentialRequest, context: grpc.aio.ServicerContext
    ) -> pb.RemoveGateCredentialResponse:
        return await self.u.gate.remove_credential(request)

    async def RecordCheckIns(
        self, request: pb.RecordCheckInsRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordCheckInsResponse:
        return await self.u.gate.record_check_ins(request)

    async def GetGateReconciliation(
        self, request: pb.GetGateReconciliationRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetGateReconciliationResponse:
        return await self.u.gate.reconciliation(request)

    async def GetBoardingSettings(
        self, request: pb.GetBoardingSettingsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetBoardingSettingsResponse:
        return await self.u.boarding.get_settings(request)

    async def ConfigureBoarding(
        self, request: pb.ConfigureBoardingRequest, context: grpc.aio.ServicerContext
    ) -> pb.ConfigureBoardingResponse:
        return await self.u.boarding.configure(request)

    async def RegisterBoarding(
        self, request: pb.RegisterBoardingRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterBoardingResponse:
        return await self.u.boarding.register(request)

    async def ListBoardingRegistrations(
        self, request: pb.ListBoardingRegistrationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListBoardingRegistrationsResponse:
        return await self.u.boarding.list_registrations(request)

    async def GetMealCount(
        self, request: pb.GetMealCountRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetMealCountResponse:
        return await self.u.boarding.meal_count(request)

    async def PublishMenu(
        self, request: pb.PublishMenuRequest, context: grpc.aio.ServicerContext
    ) -> pb.PublishMenuResponse:
        return await self.u.boarding.publish_menu(request)

    async def ListMenus(
        self, request: pb.ListMenusRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMenusResponse:
        return await self.u.boarding.list_menus(request)

    async def RecordMealAttendance(
        self, request: pb.RecordMealAttendanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordMealAttendanceResponse:
        return await self.u.boarding.record_meal_attendance(request)

    async def GetMealAttendance(
        self, request: pb.GetMealAttendanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetMealAttendanceResponse:
        return await self.u.boarding.meal_attendance(request)

    async def RecordFoodSample(
        self, request: pb.RecordFoodSampleRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordFoodSampleResponse:
        return await self.u.boarding.record_food_sample(request)

    async def DiscardFoodSample(
        self, request: pb.DiscardFoodSampleRequest, context: grpc.aio.ServicerContext
    ) -> pb.DiscardFoodSampleResponse:
        return await self.u.boarding.discard_food_sample(request)

    async def ListFoodSamples(
        self, request: pb.ListFoodSamplesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListFoodSamplesResponse:
        return await self.u.boarding.list_food_samples(request)

    async def ComputeBoardingCharges(
        self, request: pb.ComputeBoardingChargesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ComputeBoardingChargesResponse:
        return await self.u.boarding.compute_charges(request)

    async def ListBoardingCharges(
        self, request: pb.ListBoardingChargesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListBoardingChargesResponse:
        return await self.u.boarding.list_charges(request)
