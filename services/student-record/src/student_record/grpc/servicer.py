"""gRPC servicer: each RPC hands the request to its use case; the interceptor maps domain errors."""

from __future__ import annotations

import grpc
from school.student_record.v1 import student_record_pb2 as pb
from school.student_record.v1 import student_record_pb2_grpc as pb_grpc

from student_record.clubs.service import ClubService
from student_record.diplomas.service import DiplomaService
from student_record.discipline.service import DisciplineService
from student_record.enrolments.c1_import import StudentListService
from student_record.enrolments.movements import MovementService
from student_record.enrolments.service import EnrolmentService
from student_record.enrolments.travel import RecordTravelService
from student_record.gradebook.service import GradebookService
from student_record.schools.service import SchoolService
from student_record.transcripts.service import TranscriptService


class StudentRecordServicer(pb_grpc.StudentRecordServiceServicer):
    def __init__(
        self,
        schools: SchoolService,
        enrolments: EnrolmentService,
        discipline: DisciplineService,
        clubs: ClubService,
        gradebook: GradebookService,
        student_lists: StudentListService,
        movements: MovementService,
        transcripts: TranscriptService,
        diplomas: DiplomaService,
        travel: RecordTravelService,
    ) -> None:
        self.schools = schools
        self.enrolments = enrolments
        self.discipline = discipline
        self.clubs = clubs
        self.gradebook = gradebook
        self.student_lists = student_lists
        self.movements = movements
        self.transcripts = transcripts
        self.diplomas = diplomas
        self.travel = travel

    async def CreateSchool(
        self, request: pb.CreateSchoolRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateSchoolResponse:
        return await self.schools.create_school(request)

    async def ListSchools(
        self, request: pb.ListSchoolsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSchoolsResponse:
        return await self.schools.list_schools(request)

    async def GetSchool(
        self, request: pb.GetSchoolRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSchoolResponse:
        return await self.schools.get_school(request)

    async def CreateClass(
        self, request: pb.CreateClassRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateClassResponse:
        return await self.schools.create_class(request)

    async def ListClasses(
        self, request: pb.ListClassesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListClassesResponse:
        return await self.schools.list_classes(request)

    async def EnrolStudent(
        self, request: pb.EnrolStudentRequest, context: grpc.aio.ServicerContext
    ) -> pb.EnrolStudentResponse:
        return await self.enrolments.enrol_student(request)

    async def ListClassStudents(
        self, request: pb.ListClassStudentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListClassStudentsResponse:
        return await self.enrolments.list_class_students(request)

    async def GetStudent(
        self, request: pb.GetStudentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetStudentResponse:
        return await self.enrolments.get_student(request)

    async def AddGuardian(
        self, request: pb.AddGuardianRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddGuardianResponse:
        return await self.enrolments.add_guardian(request)

    async def RecordViolation(
        self, request: pb.RecordViolationRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordViolationResponse:
        return await self.discipline.record_violation(request)

    async def ListStudentViolations(
        self, request: pb.ListStudentViolationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListStudentViolationsResponse:
        return await self.discipline.list_violations(request)

    async def ConfirmSelfReview(
        self, request: pb.ConfirmSelfReviewRequest, context: grpc.aio.ServicerContext
    ) -> pb.ConfirmSelfReviewResponse:
        return await self.discipline.confirm_self_review(request)

    async def RecordReward(
        self, request: pb.RecordRewardRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordRewardResponse:
        return await self.discipline.record_reward(request)

    async def ListStudentRewards(
        self, request: pb.ListStudentRewardsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListStudentRewardsResponse:
        return await self.discipline.list_rewards(request)

    async def CreateClub(
        self, request: pb.CreateClubRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateClubResponse:
        return await self.clubs.create_club(request)

    async def ListClubs(
        self, request: pb.ListClubsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListClubsResponse:
        return await self.clubs.list_clubs(request)

    async def RequestClubMembership(
        self, request: pb.RequestClubMembershipRequest, context: grpc.aio.ServicerContext
    ) -> pb.RequestClubMembershipResponse:
        return await self.clubs.request_membership(request)

    async def DecideClubMembership(
        self, request: pb.DecideClubMembershipRequest, context: grpc.aio.ServicerContext
    ) -> pb.DecideClubMembershipResponse:
        return await self.clubs.decide_membership(request)

    async def ListClubMembers(
        self, request: pb.ListClubMembersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListClubMembersResponse:
        return await self.clubs.list_members(request)

    async def RecordClubSession(
        self, request: pb.RecordClubSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordClubSessionResponse:
        return await self.clubs.record_session(request)

    async def ListStudentClubs(
        self, request: pb.ListStudentClubsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListStudentClubsResponse:
        return await self.clubs.list_student_clubs(request)

    async def ListSubjects(
        self, request: pb.ListSubjectsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSubjectsResponse:
        return await self.gradebook.list_subjects(request)

    async def DefineSchoolYear(
        self, request: pb.DefineSchoolYearRequest, context: grpc.aio.ServicerContext
    ) -> pb.DefineSchoolYearResponse:
        return await self.gradebook.define_school_year(request)

    async def ListSchoolYears(
        self, request: pb.ListSchoolYearsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSchoolYearsResponse:
        return await self.gradebook.list_school_years(request)

    async def RecordAssessments(
        self, request: pb.RecordAssessmentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordAssessmentsResponse:
        return await self.gradebook.record_assessments(request)

    async def RecordRatings(
        self, request: pb.RecordRatingsRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordRatingsResponse:
        return await self.gradebook.record_ratings(request)

    async def GetClassGradebook(
        self, request: pb.GetClassGradebookRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetClassGradebookResponse:
        return await self.gradebook.get_class_gradebook(request)

    async def LockSemester(
        self, request: pb.LockSemesterRequest, context: grpc.aio.ServicerContext
    ) -> pb.LockSemesterResponse:
        return await self.gradebook.lock_semester(request)

    async def RequestGradeChange(
        self, request: pb.RequestGradeChangeRequest, context: grpc.aio.ServicerContext
    ) -> pb.RequestGradeChangeResponse:
        return await self.gradebook.request_grade_change(request)

    async def DecideGradeChange(
        self, request: pb.DecideGradeChangeRequest, context: grpc.aio.ServicerContext
    ) -> pb.DecideGradeChangeResponse:
        return await self.gradebook.decide_grade_change(request)

    async def ListGradeChanges(
        self, request: pb.ListGradeChangesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListGradeChangesResponse:
        return await self.gradebook.list_grade_changes(request)

    async def GetStudentResults(
        self, request: pb.GetStudentResultsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetStudentResultsResponse:
        return await self.gradebook.get_student_results(request)

    async def PublishResults(
        self, request: pb.PublishResultsRequest, context: grpc.aio.ServicerContext
    ) -> pb.PublishResultsResponse:
        return await self.gradebook.publish_results(request)

    async def ImportStudents(
        self, request: pb.ImportStudentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportStudentsResponse:
        return await self.student_lists.import_students(request)

    async def ExportStudents(
        self, request: pb.ExportStudentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ExportStudentsResponse:
        return await self.student_lists.export_students(request)

    async def IssueTranscripts(
        self, request: pb.IssueTranscriptsRequest, context: grpc.aio.ServicerContext
    ) -> pb.IssueTranscriptsResponse:
        return await self.transcripts.issue_transcripts(request)

    async def CorrectTranscript(
        self, request: pb.CorrectTranscriptRequest, context: grpc.aio.ServicerContext
    ) -> pb.CorrectTranscriptResponse:
        return await self.transcripts.correct_transcript(request)

    async def ListStudentTranscripts(
        self, request: pb.ListStudentTranscriptsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListStudentTranscriptsResponse:
        return await self.transcripts.list_student_transcripts(request)

    async def GetTranscriptDocument(
        self, request: pb.GetTranscriptDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTranscriptDocumentResponse:
        return await self.transcripts.get_transcript_document(request)

    async def VerifyTranscript(
        self, request: pb.VerifyTranscriptRequest, context: grpc.aio.ServicerContext
    ) -> pb.VerifyTranscriptResponse:
        return await self.transcripts.verify_transcript(request)

    async def IssueDiploma(
        self, request: pb.IssueDiplomaRequest, context: grpc.aio.ServicerContext
    ) -> pb.IssueDiplomaResponse:
        return await self.diplomas.issue_diploma(request)

    async def CorrectDiploma(
        self, request: pb.CorrectDiplomaRequest, context: grpc.aio.ServicerContext
    ) -> pb.CorrectDiplomaResponse:
        return await self.diplomas.correct_diploma(request)

    async def RevokeDiploma(
        self, request: pb.RevokeDiplomaRequest, context: grpc.aio.ServicerContext
    ) -> pb.RevokeDiplomaResponse:
        return await self.diplomas.revoke_diploma(request)

    async def ListSchoolDiplomas(
        self, request: pb.ListSchoolDiplomasRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSchoolDiplomasResponse:
        return await self.diplomas.list_school_diplomas(request)

    async def ListStudentDiplomas(
        self, request: pb.ListStudentDiplomasRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListStudentDiplomasResponse:
        return await self.diplomas.list_student_diplomas(request)

    async def VerifyDiploma(
        self, request: pb.VerifyDiplomaRequest, context: grpc.aio.ServicerContext
    ) -> pb.VerifyDiplomaResponse:
        return await self.diplomas.verify_diploma(request)

    async def MoveStudent(
        self, request: pb.MoveStudentRequest, context: grpc.aio.ServicerContext
    ) -> pb.MoveStudentResponse:
        return await self.movements.move_student(request)

    async def RequestTransfer(
        self, request: pb.RequestTransferRequest, context: grpc.aio.ServicerContext
    ) -> pb.RequestTransferResponse:
        return await self.movements.request_transfer(request)

    async def DecideTransfer(
        self, request: pb.DecideTransferRequest, context: grpc.aio.ServicerContext
    ) -> pb.DecideTransferResponse:
        return await self.movements.decide_transfer(request)

    async def ListMovements(
        self, request: pb.ListMovementsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMovementsResponse:
        return await self.movements.list_movements(request)

    async def TransferStudentOut(
        self, request: pb.TransferStudentOutRequest, context: grpc.aio.ServicerContext
    ) -> pb.TransferStudentOutResponse:
        return await self.travel.transfer_student_out(request)

    async def ExportStudentRecord(
        self, request: pb.ExportStudentRecordRequest, context: grpc.aio.ServicerContext
    ) -> pb.ExportStudentRecordResponse:
        return await self.travel.export_student_record(request)

    async def ImportStudentRecord(
        self, request: pb.ImportStudentRecordRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportStudentRecordResponse:
        return await self.travel.import_student_record(request)

    async def ListReceivedRecords(
        self, request: pb.ListReceivedRecordsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListReceivedRecordsResponse:
        return await self.travel.list_received_records(request)
